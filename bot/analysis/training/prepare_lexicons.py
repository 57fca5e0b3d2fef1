"""Refresh the vendored lexicon TSVs in ``lexicons/`` from their upstream files.

Only needed when upstream lexicons change; training reads the vendored TSVs. Pass the
files unpacked from the upstream packages (see ``lexicons/README.txt``)::

    python -m bot.analysis.training.prepare_lexicons \
        --vader vader_lexicon.txt --vader-emoji emoji_utf8_lexicon.txt \
        --vader-fr fr_lexicon.txt --pattern-fr fr-sentiment.xml --pattern-en en-sentiment.xml
"""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

LEXICON_DIR = Path(__file__).parent / "lexicons"


def read_vader(path: Path) -> dict[str, float]:
    """VADER's ``token<TAB>mean<TAB>sd<TAB>ratings`` lines."""
    out: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0]:
            out[parts[0].lower()] = float(parts[1])
    return out


def read_vader_fr(path: Path) -> dict[str, float]:
    """vaderSentiment-fr's ``token->valence`` lines."""
    out: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        token, sep, value = line.rpartition("->")
        if sep and token:
            out[token.lower()] = float(value)
    return out


def read_pattern(path: Path) -> dict[str, float]:
    """Pattern's adjectives; polarity (-1..1) averaged over senses, scaled to -4..4."""
    senses: dict[str, list[float]] = defaultdict(list)
    for word in ET.parse(path).getroot().iter("word"):  # noqa: S314 - trusted upstream file
        form, polarity = word.get("form"), word.get("polarity")
        if form and polarity is not None:
            senses[form.lower()].append(float(polarity))
    return {k: round(4.0 * sum(v) / len(v), 3) for k, v in senses.items() if any(v)}


# Common emojis whose names carry no or the wrong lexicon word ("pouting face" is angry).
EMOJI_OVERRIDES = {
    "😡": -3.0,
    "🤬": -3.5,
    "😠": -3.0,
    "😤": -2.0,
    "👎": -2.0,
    "😭": -2.5,
    "💔": -3.0,
    "😒": -2.0,
    "🙄": -1.5,
    "🤮": -3.0,
    "🤢": -2.5,
    "😞": -2.0,
    "😔": -1.5,
    "😩": -2.0,
    "😫": -2.0,
    "😖": -2.0,
    "😣": -1.5,
    "😑": -1.0,
    "🤦": -1.5,
    "😬": -1.0,
    "😱": -1.5,
    "👍": 2.0,
    "🙏": 1.5,
    "👏": 2.0,
    "🙌": 2.0,
    "💪": 1.5,
    "🥰": 3.0,
    "😊": 2.5,
    "🙂": 1.0,
    "😁": 2.5,
    "😀": 2.0,
    "😃": 2.5,
    "😄": 2.5,
    "🤗": 2.0,
    "🎉": 2.5,
    "❤️": 3.0,
    "❤": 3.0,
    "💕": 3.0,
    "💖": 3.0,
    "💙": 2.5,
    "💚": 2.5,
    "💜": 2.5,
    "✨": 1.0,
    "👌": 1.5,
    "🤩": 3.0,
    "😎": 1.5,
    "😉": 1.5,
    "😘": 2.5,
    "😅": 0.5,
}


def _is_pictograph(text: str) -> bool:
    """Emoji of the pictograph blocks (faces, hands, hearts...), not media controls."""
    first = ord(text[0])
    return 0x1F300 <= first <= 0x1FAFF or 0x2600 <= first <= 0x27BF


def emoji_valences(descriptions: Path, lexicon: dict[str, float]) -> dict[str, float]:
    """Valence of each emoji: the lexicon valences of the words of its English name."""
    out: dict[str, float] = dict(EMOJI_OVERRIDES)
    for line in descriptions.read_text(encoding="utf-8").splitlines():
        emoji, sep, name = line.partition("\t")
        if not sep or emoji in out or not _is_pictograph(emoji):
            continue
        words = re.findall(r"[a-z']+", name.lower())
        total = sum(lexicon.get(w, 0.0) for w in words)
        if total:
            out[emoji] = round(max(-4.0, min(4.0, total)), 3)
    return out


def write_tsv(path: Path, table: dict[str, float], source: str) -> None:
    """Write ``token<TAB>valence`` sorted by token, with a provenance header line."""
    lines = [f"# {source}"]
    lines += [f"{k}\t{v:g}" for k, v in sorted(table.items()) if "\t" not in k and k.strip()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Convert the upstream files given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vader", type=Path, required=True)
    parser.add_argument("--vader-emoji", type=Path, required=True)
    parser.add_argument("--vader-fr", type=Path, required=True)
    parser.add_argument("--pattern-fr", type=Path, required=True)
    parser.add_argument("--pattern-en", type=Path, required=True)
    args = parser.parse_args(argv)
    vader = read_vader(args.vader)
    write_tsv(LEXICON_DIR / "en_vader.tsv", vader, "vaderSentiment 3.3.2 vader_lexicon.txt, MIT")
    write_tsv(
        LEXICON_DIR / "emoji.tsv",
        emoji_valences(args.vader_emoji, vader),
        "vaderSentiment 3.3.2 emoji_utf8_lexicon.txt names scored with vader_lexicon, MIT",
    )
    write_tsv(
        LEXICON_DIR / "fr_vader.tsv",
        read_vader_fr(args.vader_fr),
        "vaderSentiment-fr 1.3.4 fr_lexicon.txt, MIT",
    )
    write_tsv(
        LEXICON_DIR / "fr_pattern.tsv",
        read_pattern(args.pattern_fr),
        "textblob-fr 0.2.0 fr-sentiment.xml (Pattern, De Smedt & Daelemans), PDDL; x4",
    )
    write_tsv(
        LEXICON_DIR / "en_pattern.tsv",
        read_pattern(args.pattern_en),
        "textblob 0.20.1 en/en-sentiment.xml (Pattern, De Smedt & Daelemans), PDDL; x4",
    )


if __name__ == "__main__":
    main()
