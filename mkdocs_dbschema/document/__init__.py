"""Whole-schema pages: navigation, summary, diagram and coverage over the catalog overview.

Pure functions over the model: nothing here reads the database.
"""

from .erd import ErdOptions, erd, erd_options, neighbourhood
from .listing import (
    Candidate,
    Coverage,
    Entry,
    Listing,
    coverage,
    first_sentence,
    integration_candidates,
    integration_reasons,
    levels_of,
    listings,
    overall,
    percent,
)
from .render import KINDS, DocumentError, Site, context, link_to, linked, render
from .selection import Groups, Selection, anchor, group_of, select

__all__ = [
    "KINDS",
    "Candidate",
    "Coverage",
    "DocumentError",
    "Entry",
    "ErdOptions",
    "Groups",
    "Listing",
    "Selection",
    "Site",
    "anchor",
    "context",
    "coverage",
    "erd",
    "erd_options",
    "first_sentence",
    "group_of",
    "integration_candidates",
    "integration_reasons",
    "levels_of",
    "link_to",
    "linked",
    "listings",
    "neighbourhood",
    "overall",
    "percent",
    "render",
    "select",
]
