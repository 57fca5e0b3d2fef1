"""Build the shipped language-identification table from langdetect's n-gram profiles.

    python -m bot.analysis.training.build_language_model [--profiles DIR]

langdetect (Apache-2.0, a port of Shuyo Nakatani's language-detection) ships character
1-3-gram frequency profiles made from Wikipedia. We keep the languages listed in
``LANGUAGES``, turn frequencies into quantized negative log-probabilities (naive Bayes)
and write ``bot/analysis/models/language.json.gz``. Needs ``langdetect`` installed, or
``--profiles`` pointing at its ``profiles/`` folder.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import math
from collections.abc import Sequence
from pathlib import Path

from bot.analysis.language import LANGUAGES, MODEL_FORMAT, QUANT

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
PROFILE_NAMES = {"zh": "zh-cn"}

# Short function words: Wikipedia-trained n-grams under-weight them, yet they decide
# short social texts ("audio is excellent"). A word listed for some languages costs
# ``FUNCTION_WORD_NATS`` to every other language.
FUNCTION_WORD_NATS = 4.0
FUNCTION_WORDS = {
    "en": "the and is are was were to of in it that this you my me we they he she with for "
    "on not have has had be been do does did but what so just can will would your our at "
    "from about an or if no yes all get got its dont im thanks please when how why who",
    "fr": "le la les des une un est et en du dans pour pas que qui sur avec ce cette sont au "
    "aux je tu il elle nous vous ils mais ou donc plus très être avoir fait merci bonjour "
    "pourquoi comment quand",
    "es": "el la los las de del que y en un una es por para con no se lo como más pero su al "
    "está son muy gracias hola yo tu porque a os habéis",
    "de": "der die das und ist nicht ein eine zu den mit von auf für im dem des sich auch es "
    "ich du wir sie sind war danke bitte",
    "pt": "o a os as de do da dos das que e em um uma é não com para por se mais como mas foi "
    "são está muito você obrigado obrigada olá",
    "it": "il lo la gli le di del della che e è un una per non con sono ma come anche più "
    "questo mi ti si grazie ciao",
    "nl": "de het een en van is dat niet op te met voor zijn ik je we ze er maar ook wat dit "
    "bedankt dank",
    "sv": "och att det som en är på av för med inte jag har till den de om men så vi tack",
    "da": "og at det som en er på af for med ikke jeg har til den de om men så vi tak",
    "no": "og at det som en er på av for med ikke jeg har til den de om men så vi takk",
    "fi": "ja on ei se että oli mutta kun niin tai minä sinä hän me te he ole kiitos",
    "pl": "i w na z nie się to że jest do jak ale co tak po od za dziękuję",
    "cs": "a v na se je že to s z do jak ale co tak po od za jsem není děkuji",
    "ro": "și în de la cu nu este pe un o că mai din care sunt mulțumesc",
    "tr": "ve bir bu da de ne için ile çok ben sen o var yok gibi daha teşekkürler",
    "id": "dan yang di ini itu dengan untuk tidak ada saya kamu dari ke akan juga terima kasih",
    "vi": "và của là có không một những các được cho với này người trong",
}


def langdetect_profiles() -> Path:
    """The ``profiles`` folder of the installed langdetect package."""
    import langdetect

    return Path(langdetect.__file__).parent / "profiles"


def read_profile(path: Path) -> tuple[dict[str, int], list[int]]:
    """N-gram counts (lowercased, merged) and the total count per n-gram length."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for gram, count in payload["freq"].items():
        key = gram.lower()
        if len(key) != len(gram):  # "İ" lowercases to two code points
            continue
        counts[key] = counts.get(key, 0) + int(count)
    return counts, [int(n) for n in payload["n_words"]]


def build(profiles: Path, languages: Sequence[str] = LANGUAGES) -> dict[str, object]:
    """The model payload: grams and, per gram and language, a cost byte."""
    tables = [read_profile(profiles / PROFILE_NAMES.get(lang, lang)) for lang in languages]
    grams = sorted({g for counts, _ in tables for g in counts})
    costs = bytearray(len(grams) * len(languages))
    for j, (counts, totals) in enumerate(tables):
        floors = {}
        for n in (1, 2, 3):
            present = [c for g, c in counts.items() if len(g) == n]
            # An n-gram missing from a pruned profile is rarer than the rarest kept one.
            floors[n] = (min(present) / 2 if present else 1) / totals[n - 1]
        for i, gram in enumerate(grams):
            n = len(gram)
            count = counts.get(gram)
            prob = count / totals[n - 1] if count else floors[n]
            costs[i * len(languages) + j] = min(255, round(-math.log(prob) * QUANT))
    function_words: dict[str, list[str]] = {}
    for lang, words in FUNCTION_WORDS.items():
        if lang not in languages:
            continue
        for word in words.split():
            function_words.setdefault(word, []).append(lang)
    return {
        "format": MODEL_FORMAT,
        "function_word_nats": FUNCTION_WORD_NATS,
        "function_words": function_words,
        "languages": list(languages),
        "quant": QUANT,
        "source": "langdetect 1.0.9 profiles (Apache-2.0), Wikipedia n-gram frequencies",
        "grams": "\n".join(grams),
        "costs": base64.b64encode(bytes(costs)).decode("ascii"),
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    args = parser.parse_args(argv)
    payload = build(args.profiles or langdetect_profiles())
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "language.json.gz"
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"wrote {path.name}: {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
