"""English and French stopwords (accent-free, lowercase) plus social-media noise words."""

from __future__ import annotations

from bot.analysis.text import fold_accents

_ENGLISH = """
a about above after again against all also am an and any are aren't as at be because been
before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each even ever few for from further get gets got had hadn't
has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself
his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's like
make me more most much must mustn't my myself new no nor not now of off on once one only or
other ought our ours ourselves out over own really same say says said see shan't she she'd
she'll she's should shouldn't so some still such than that that's the their theirs them
themselves then there there's these they they'd they'll they're they've this those through
to too under until up us very via was wasn't way we we'd we'll we're we've were weren't what
what's when when's where where's which while who who's whom why why's will with won't would
wouldn't yes yet you you'd you'll you're you've your yours yourself yourselves im dont cant
didnt doesnt isnt ive youre thats whats theres lets gonna wanna gotta
"""

_FRENCH = """
a afin ai aie aient aies ait alors as au aucun aura aurai auraient aurais aurait auras aurez
auriez aurions aurons auront aussi autre aux avaient avais avait avant avec avez aviez avions
avoir avons ayant bien c ca ce ceci cela celle celles celui ces cet cette ceux chaque chez
comme comment d dans de des deja depuis donc dont du elle elles en encore entre es est et
etaient etais etait etant ete etes etions etre eu eue eues eurent eus eut eux fait faire
fais faut fois furent fut ici il ils j je jusqu l la le les leur leurs lui m ma mais me meme
memes mes moi mon n ne ni nos notre nous on ont ou par parce pas peu peut plus pour pourquoi
qu quand que quel quelle quelles quels qui quoi s sa sans se sera serai seraient serais
serait seras serez seriez serions serons seront ses si sien soi soient sois soit sommes son
sont sous suis sur t ta te tes toi ton tous tout toute toutes tres tu un une unes uns vers
voici voila vos votre vous vu y c'est j'ai n'est qu'il qu'on d'un d'une l'on aujourd'hui
"""

_SOCIAL = """
rt amp via http https www com user co html htm utm de la le lol gt lt
"""

STOPWORDS: frozenset[str] = frozenset(
    fold_accents(w) for w in (_ENGLISH + _FRENCH + _SOCIAL).split()
)
"""Words that carry no topic, in either language (compare after ``fold_accents``)."""


def is_stopword(word: str) -> bool:
    """True for stopwords, numbers and one- or two-letter words."""
    return len(word) < 3 or word in STOPWORDS or word.isdigit()
