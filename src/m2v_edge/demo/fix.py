"""The isotropy fix as the demo shows it: can the served model tell texts apart, and its ranking without/with the fix.

A model whose vectors crowd into a narrow cone (the seed card's family, distilled from a decoder LLM) gives every
pair of texts a high cosine, so its rankings look like results while sitting near chance. The demo measures
this on the model it serves: the mean cosine of random pairs of held-out sentences (STS-B dev, never used to fit
a map), against :data:`~m2v_edge.eval.anisotropy.CONE`. Measured on :data:`PROBE_SENTENCES` of them
(docs/demo.md): potion-base-8M int8 0.056, the Qwen-family model int8 as distilled (``--isotropy none``) 0.993,
the same with the default export (``auto``: abtt:10) 0.004. The threshold 0.5 sits far from both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from m2v_edge.eval.anisotropy import CONE
from m2v_edge.runtime.similarity import random_pair_cosine
from m2v_edge.source.datasets import load_stsb

if TYPE_CHECKING:
    from m2v_edge.runtime.loader import Encoder
    from m2v_edge.runtime.tokenize import TextTokenizer
    from m2v_edge.source.folder import SourceModel

PROBE_SENTENCES = 400


def probe_sentences() -> list[str]:
    """:data:`PROBE_SENTENCES` distinct sentences spread over the packaged STS-B dev split (held out from fitting)."""
    from m2v_edge.export.isotropy import HELD_OUT

    pairs = load_stsb(HELD_OUT)
    distinct = list(dict.fromkeys(text for p in pairs for text in (p.text1, p.text2)))
    return distinct[:: max(1, len(distinct) // PROBE_SENTENCES)][:PROBE_SENTENCES]


def served_cone(encoder: Encoder) -> float:
    """Mean cosine of random pairs of the probe sentences, as ``encoder`` embeds them."""
    return random_pair_cosine(encoder.encode(probe_sentences()))


def notice(cone: float, fix_shown: bool) -> str:
    """The warning the demo shows above its tabs when the served model cannot discriminate ("" when it can)."""
    if cone < CONE:
        return ""
    compare = " The **Compare** tab shows this ranking without and with the fix." if fix_shown else ""
    return (
        f"**This model cannot tell texts apart by cosine.** Unrelated texts already score a mean cosine of "
        f"**{cone:.3f}** (at or above {CONE}; potion-base-8M: 0.06), so every score below looks alike and "
        "the order is close to chance. **Remedy:** export its Model2Vec source with the default "
        "`m2v-edge export SOURCE -o DIR` (`--isotropy auto` removes the shared direction where it helps) and "
        "serve DIR, or run `m2v-edge demo SOURCE` without `--isotropy none`." + compare
    )


@dataclass(frozen=True)
class FixView:
    """Two encoders of one model, without and with the isotropy map, and how to name them in the UI."""

    without: Encoder
    with_fix: Encoder
    without_label: str
    with_label: str
    cones: tuple[float, float]  # random-pair mean cosine of the probe sentences: without, with


def fix_view(
    source: SourceModel,
    served: Encoder,
    entry: Any,
    mapping: Any,
    cone: float,
    tokenizer: TextTokenizer | None = None,
) -> FixView | None:
    """The side-by-side for an anisotropic model, or ``None`` for a model that needs no fix.

    :param served: the export the demo serves; ``entry`` its config's ``isotropy`` entry, ``mapping`` the map
        it folded in (fitted again on ``source``) or ``None``; ``cone``: its measured random-pair cosine.
    """
    from m2v_edge.export.isotropy import choose
    from m2v_edge.runtime.reference import ReferenceModel

    if mapping is not None:  # the export applied the fix: model2vec's vectors are the "without"
        raw = ReferenceModel(source, tokenizer=tokenizer)
        label = f"with the fix (this export, abtt:{entry['k']})"
        return FixView(raw, served, "without (model2vec's vectors, float)", label, (served_cone(raw), cone))
    if cone < CONE:
        return None
    result = choose(source, "auto", tokenizer=tokenizer)  # served as distilled: show what the default would do
    if result is None or result.chosen is None:
        return None
    fixed = ReferenceModel(source, result.chosen, tokenizer=tokenizer)
    label = f"with the fix (float source + abtt:{result.chosen.k}, what the default export applies)"
    return FixView(served, fixed, "without (this export)", label, (cone, served_cone(fixed)))
