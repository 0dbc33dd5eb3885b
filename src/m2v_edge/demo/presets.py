"""Preset examples for the demo, taken from the qwen25-deposium-1024d model card (``../shared/seed/``).

Queries and documents are quoted from the card's quick start and use cases. The idioms preset adds one
literal-reading distractor ("A slice of chocolate cake") so the ranking has a hard negative, as the card's
own pairs have none.
"""

from __future__ import annotations

from typing import NamedTuple

# Where the presets are quoted from (the Search tab says so, and whether that model is the one running).
PRESET_SOURCE = "qwen25-deposium-1024d"


class Preset(NamedTuple):
    """A query and its documents, one click away in the Search and Compare tabs."""

    label: str
    query: str
    documents: tuple[str, ...]

    @property
    def documents_text(self) -> str:
        """The documents as the text box holds them: one per line."""
        return "\n".join(self.documents)


SEARCH_PRESETS: tuple[Preset, ...] = (
    Preset(
        "Train a neural network",
        "How do I train a neural network?",
        (
            "Neural network training tutorial and guide",
            "Neural networks in biology",
            "Machine learning frameworks",
        ),
    ),
    Preset(
        "Instruction-aware search",
        "Explain quantum computing",
        (
            "quantum computing explanation guide",
            "explain physics concepts",
        ),
    ),
    Preset(
        "RAG question",
        "How can I improve my Python code?",
        (
            "Python code optimization techniques and best practices",
            "Python programming language history",
            "Code review guidelines for teams",
        ),
    ),
    Preset(
        "Code search",
        "Sort a list in Python",
        (
            "list.sort() method for in-place sorting",
            "sorted() function returns new sorted list",
            "Python list operations overview",
        ),
    ),
    Preset(
        "Idioms",
        "That's a piece of cake",
        (
            "That's very easy and simple",
            "Good luck and success",
            "A slice of chocolate cake",
        ),
    ),
)

# The card's instruction-awareness test pairs: each instruction next to its "semantic equivalent".
MATRIX_PRESET: tuple[str, ...] = (
    "Explain how neural networks work",
    "neural networks explanation tutorial guide",
    "Summarize machine learning concepts",
    "machine learning summary overview",
    "Find articles about quantum computing",
    "quantum computing articles documents",
)


def preset_by_label(label: str) -> Preset:
    """The search preset with this button label.

    :raises KeyError: if no preset has that label.
    """
    for preset in SEARCH_PRESETS:
        if preset.label == label:
            return preset
    raise KeyError(f"no preset named {label!r}; choose one of {[p.label for p in SEARCH_PRESETS]}")
