"""Transcript text features for scoring: lexicons, filler detection, keywords, titles and hashtags."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence


def _ws(text: str) -> frozenset[str]:
    """A frozenset of the whitespace-separated words of `text`."""
    return frozenset(text.split())


WORD_RE = re.compile(r"[^\W_]+(?:'[^\W\d_]+)?")  # letters of any script (accents, umlauts) and digits

STOPWORDS = _ws(
    """a about above after again against all almost also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each even ever every few for from further get gets got had hadn't has hasn't have haven't having he
    he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't
    it it's its itself just let let's like lot me more most much must my myself no nor not now of off on once only
    or other ought our ours ourselves out over own really right same say said says she she'd she'll she's should
    shouldn't so some such than that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've thing things think this those through to too under until up upon us very was wasn't we
    we'd we'll we're we've were weren't what what's when when's where where's which while who who's whom why
    why's will with won't would wouldn't yeah yes yet you you'd you'll you're you've your yours yourself
    yourselves okay ok um uh oh well actually basically literally kind sort going gonna want wanna know
    see look make made way one two three ten first next last back many much still already always never
    today day time times people person someone something anything everything nothing thank thanks
    year years month months week weeks lot lots good great new old big small little long short makes making
    take takes taking took come comes came go goes went gone tell tells told give gives gave put keep keeps kept
    ask asks asked use uses used try tries tried start starts started need needs feel feels felt find finds
    found call calls called seem seems seemed become becomes became show shows showed ended end bring""")

# Spanish and German function words (the lists below also carry Spanish and German hook, insight,
# emotion and filler phrases, so the local scorer works on talks in those languages too).
STOPWORDS_ES = _ws(
    """el la los las un una unos unas y o pero que de del al a en con por para sin sobre entre es son era
    eran fue ser estar está están estaba he ha han hay había mi mis tu tus su sus nuestro nuestra yo tú él
    ella nosotros ellos ellas me te se nos le les lo esto esta este estos estas eso esa ese como más muy
    también ya no sí si cuando donde porque pues bueno vale entonces todo todos toda todas cada otro otra
    qué cómo cuándo dónde hola gracias aquí así tan tanto hacer hace hizo tiene tener tengo puedo puede""")
STOPWORDS_DE = _ws(
    """der die das den dem des ein eine einen einem einer und oder aber dass von zu zum zur mit auf für aus
    bei nach über unter vor ist sind bin bist sein seid habe hast haben hatte wird werden wurde ich du er
    sie es wir ihr mich dich sich uns euch mein meine dein deine sein seine unser nicht kein keine auch noch
    schon sehr nur wie wenn weil dann denn doch mal also ja nein hier dort heute jetzt alle alles jeder
    jede jedes dieser diese dieses was wer wo warum kann können muss müssen hallo danke""")
STOPWORDS = STOPWORDS | STOPWORDS_ES | STOPWORDS_DE

# Words a prompt uses to describe a moment rather than its content ("the part where she explains ...").
PROMPT_META = _ws(
    """part parts bit bits moment moments clip clips section segment segments where when talk talks talking
    talked explain explains explaining explained mention mentions mentioned mentioning discuss discusses
    discussing discussed about every each time times whenever story stories speaker they he she someone
    show find give me all""")

CONNECTIVES = (
    "and", "so", "but", "or", "because", "which", "that's why", "also", "then", "plus", "anyway",
    "however", "therefore", "as well", "too", "though", "although", "otherwise", "besides",
)  # fmt: skip
DANGLING_PRONOUNS = _ws("it this that they them he she these those his her their its there")

HOOK_PHRASES = (
    "here's", "here is", "secret", "mistake", "never", "nobody", "no one", "everyone", "stop", "why",
    "how to", "the truth", "what if", "imagine", "did you know", "biggest", "worst", "best", "most people",
    "you need", "don't", "let me tell you", "the reason", "the problem", "the one thing", "changed",
    "wrong", "myth", "lie", "surprising", "shocking", "nobody tells you", "trick", "hack", "warning",
    "faster than", "better than", "more than any", "changed the world", "of all time", "the first time",
    "what happened", "you won't believe",
    # Spanish
    "el secreto", "el error", "nadie", "nunca", "la verdad", "imagina", "sabías que", "lo mejor", "lo peor",
    "el problema", "por qué", "cómo", "el truco", "nadie te dice", "cambió", "más común",
    # German
    "das geheimnis", "der fehler", "niemand", "niemals", "die wahrheit", "stell dir vor", "wusstest du",
    "das beste", "das schlimmste", "das problem", "warum", "der trick", "keiner sagt dir",
)  # fmt: skip
SUPERLATIVES = _ws("best worst biggest most least fastest greatest hardest easiest only every always never all none")

EMOTION_WORDS = _ws(
    """amazing incredible unbelievable insane crazy terrible horrible awful worst best love loved hate hated
    scared afraid terrified fear angry furious shocked shocking surprised stunned disaster nightmare dream
    cried cry crying tears laughed laughing laugh hilarious funny heartbreaking devastated thrilled excited
    exciting panic panicked embarrassing embarrassed proud ashamed honestly seriously literally wow fire
    smoking alarm died dead dying kill killed broke broken fail failed failure win won victory beautiful
    brutal painful pain hurt lonely happy happiest sad saddest miracle revolution changed forever
    increíble terrible horrible miedo llorar lloré reír reímos desastre feliz triste amor odio sorprendente
    unglaublich schrecklich angst weinen lachen katastrophe glücklich traurig liebe hass überraschend""")

INSIGHT_PHRASES = (
    "how to", "the key", "the lesson", "the trick", "the secret", "the reason", "step", "because",
    "so that", "that's why", "which means", "this means", "research", "study", "studies", "experiment",
    "percent", "data", "the rule", "the truth", "here's why", "here is why", "remember", "if you",
    "instead of", "rather than", "the difference", "learned", "lesson", "principle", "signal", "strategy",
    "mistake", "tip", "works", "matters",
    "la lección", "la clave", "el truco", "porque", "estudio", "por ciento", "recuerda", "en lugar de",
    "die lektion", "der schlüssel", "der trick", "weil", "studie", "prozent", "denk daran", "statt",
)  # fmt: skip
NUMBER_WORDS = _ws(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty sixty seventy
    eighty ninety hundred thousand million billion percent half double triple""")

# Filler patterns by kind. Each is matched against a sentence's lower-cased text.
FILLER_PATTERNS: dict[str, tuple[str, ...]] = {
    "greeting": (
        r"\bwelcome (back )?(to|everyone|everybody|guys)\b", r"^(hi|hey|hello)( there)?,? (everyone|everybody|"
        r"guys|folks|friends|all)\b", r"\bgreat to have you\b", r"\bglad (you'?re|you are|to have you)\b",
        r"\bgood to (be back|see you)\b", r"\bwelcome back\b", r"\bhow'?s it going\b",
        r"\bbienvenid[oa]s\b", r"^hola,? (a todos|amigos|chicos)\b", r"\bwillkommen\b",
        r"^hallo,? (zusammen|leute|ihr)\b",
    ),
    "housekeeping": (
        r"\blike and subscribe\b", r"\bsubscribe\b", r"\bhit the bell\b", r"\bnotification", r"\bhousekeeping\b",
        r"\blinks? (is |are )?in the description\b", r"\bdescription below\b", r"\bsmash (that|the) like\b",
        r"\bleave a comment\b", r"\bcomment below\b", r"\bpatreon\b", r"\bfollow (me|us) on\b",
        r"\bbefore we (start|begin|get started)\b",
        r"\bsuscr[ií]be", r"\bdale (a )?like\b", r"\bcampanita\b", r"\bdescripci[óo]n\b",
        r"\babonnier", r"\bglocke\b", r"\bbeschreibung\b",
    ),
    "sponsor": (
        r"\bsponsored by\b", r"\bsponsor(s|ed)?\b", r"\bpromo code\b", r"\buse (the )?code\b",
        r"\bdiscount code\b", r"\bpercent off\b", r"% off\b", r"\bbrought to you by\b", r"\bfirst order\b",
        r"\bfree trial\b", r"\baffiliate link\b",
        r"\bpatrocinad[oa]\b", r"\bc[óo]digo de descuento\b", r"\busa el c[óo]digo\b",
        r"\bgesponsert\b", r"\brabattcode\b", r"\bmit dem code\b",
    ),
    "disfluency": (
        r"\bwhere was i\b", r"\bwhat was i saying\b", r"\blost my train of thought\b", r"\bwhere were we\b",
        r"^(um+|uh+|er+|hmm+)[,.!? ]*(okay|ok|so|right|yeah)?[,.!? ]*$", r"\bhold on,? let me\b",
        r"\bsorry,? (i )?lost\b",
    ),
    "outro": (
        r"\bthanks? (you )?(so much )?for watching\b", r"\bthanks? (you )?for listening\b", r"\bsee you next\b",
        r"\bsee you (in the next|soon|later|all)\b", r"\bbye for now\b", r"^(bye|goodbye)\b",
        r"\buntil next time\b", r"\bthat'?s (it|all) for (today|this)\b", r"\bcatch you (later|next)\b",
        r"\bgracias por (ver|escuchar)\b", r"\bhasta la pr[óo]xima\b", r"^(adi[óo]s|chao)\b",
        r"\bdanke (f[üu]rs|f[üu]r das) (zuschauen|zuh[öo]ren)\b", r"\bbis zum n[äa]chsten mal\b", r"^tsch[üu]ss\b",
    ),
}
_FILLER_RES = {kind: tuple(re.compile(p) for p in pats) for kind, pats in FILLER_PATTERNS.items()}
# A sentence made only of these is "trivial": harmless mid-clip, but a clip should not start/end on one.
TRIVIAL_WORDS = _ws("okay ok so right yeah yes well um uh alright all anyway now hmm er vale bueno pues eh also naja")

SMALL_TITLE_WORDS = _ws("a an the and but or nor for of to in on at by with as vs via per")
# A title must not end on these function words (that would be a trailing fragment).
BAD_TITLE_ENDINGS = _ws(
    """a an the and but or nor so of to in on at by for with from as into onto than then that which who whom
    whose if because my your our their his her its is are was were be been being have has had do does did will
    would can could should may might must i we you they he she it this these those very just really not no
    about over under after before while when where how what why also plus too""")
# A title never ends on these, shortened or not ("... with the", "... and").
FRAGMENT_ENDINGS = _ws(
    "a an the and but or nor of to in on at by for with from as into onto than that which because if so my your"
)
TITLE_MAX = 60


def words(text: str) -> list[str]:
    """Lower-case word tokens (keeps in-word apostrophes: "here's")."""
    return WORD_RE.findall(text.lower().replace("\u2019", "'"))


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 2 and not w.isdigit()]


def stem(word: str) -> str:
    """A crude suffix stripper, enough to merge "price"/"prices"/"priced"/"pricing" for keywords and search."""
    word = word.removesuffix("'s").rstrip("'")
    for suffix, min_len in (("ing", 5), ("ies", 5), ("es", 5), ("ed", 5), ("s", 4)):
        if word.endswith(suffix) and len(word) >= min_len + len(suffix) - 2:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def count_phrases(text: str, phrases: Iterable[str]) -> int:
    low = " " + " ".join(words(text)) + " "
    return sum(1 for p in phrases if f" {p} " in low)


def filler_kind(sentence: str) -> str | None:
    """The filler kind of a sentence (greeting, housekeeping, sponsor, disfluency, outro) or None."""
    low = " ".join(sentence.lower().replace("\u2019", "'").split())
    for kind, patterns in _FILLER_RES.items():
        if any(p.search(low) for p in patterns):
            return kind
    return None


def is_trivial(sentence: str) -> bool:
    toks = words(sentence)
    return not toks or (len(toks) <= 3 and all(t in TRIVIAL_WORDS for t in toks))


def starts_with_connective(sentence: str) -> bool:
    low = " ".join(words(sentence))
    return any(low == c or low.startswith(c + " ") for c in CONNECTIVES)


def starts_with_dangling_pronoun(sentence: str) -> bool:
    toks = words(sentence)[:2]
    return bool(toks) and toks[0] in DANGLING_PRONOUNS


def has_number(text: str) -> bool:
    return bool(re.search(r"\d", text)) or any(w in NUMBER_WORDS for w in words(text))


# --- keywords -----------------------------------------------------------------------------------------


class KeywordModel:
    """TF-IDF keyword picking: document frequencies over the transcript's sentences."""

    def __init__(self, sentences: Sequence[str]) -> None:
        self.n_docs = max(1, len(sentences))
        self.df: Counter[str] = Counter()
        for s in sentences:
            self.df.update({stem(w) for w in content_words(s)})

    def idf(self, stemmed: str) -> float:
        return math.log((1 + self.n_docs) / (1 + self.df.get(stemmed, 0))) + 1.0

    def keywords(self, text: str, k: int = 4) -> list[str]:
        """The k most distinctive content words of `text` (surface form, most frequent variant)."""
        toks = [w for w in content_words(text) if not w.endswith(("ly", "ed"))]
        tf: Counter[str] = Counter(stem(w) for w in toks)
        surface: dict[str, Counter[str]] = {}
        first_pos: dict[str, int] = {}
        for i, w in enumerate(toks):
            s = stem(w)
            surface.setdefault(s, Counter())[w] += 1
            first_pos.setdefault(s, i)
        scored = sorted(
            tf, key=lambda s: (-round((1 + math.log(tf[s])) * self.idf(s), 6), first_pos[s])
        )
        return [surface[s].most_common(1)[0][0] for s in scored[:k]]


# --- titles, descriptions, hashtags -------------------------------------------------------------------

_LEADING_NOISE = re.compile(
    r"^(?:(?:um+|uh+|so|and|but|well|okay|ok|alright|right|now|yeah|anyway|like|also)\b[,.]?\s+)+", re.I
)


def clean_sentence(text: str) -> str:
    """Drop leading discourse markers and collapse spaces ("Okay, so here is..." -> "here is...")."""
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.!?;:%])", r"\1", text)
    return _LEADING_NOISE.sub("", text).strip()


def title_case(text: str) -> str:
    out: list[str] = []
    for i, tok in enumerate(text.split()):
        bare = tok.strip("\"'()[]").lower()
        if tok.isupper() and len(tok) > 1 and tok.isalpha():
            out.append(tok)  # acronyms stay
        elif i > 0 and bare in SMALL_TITLE_WORDS:
            out.append(tok.lower())
        elif bare == "i" or bare.startswith("i'"):
            out.append(tok[0].upper() + tok[1:])
        else:
            out.append(tok[:1].upper() + tok[1:])
    return " ".join(out)


# Cutting a long sentence right before one of these leaves a complete phrase ("... memory | than any ...").
BREAK_BEFORE = _ws(
    "than for with in of to about on at from by because when while which that who so and but or if as after before"
)


def _shorten(text: str) -> str:
    """Fit `text` in TITLE_MAX characters at the most natural place."""
    if len(text) <= TITLE_MAX:
        return text
    # A long leading clause ("Within 50 years, printers ...") goes first.
    head, sep, tail = text.partition(", ")
    if sep and len(head) <= len(text) // 2 and len(tail) >= 15:
        text = tail[0].upper() + tail[1:]
        if len(text) <= TITLE_MAX:
            return text
    cut = -1
    for m in re.finditer(r"[,;:]| - ", text):
        if 25 <= m.start() <= TITLE_MAX:
            cut = m.start()
    if cut < 0:
        for m in re.finditer(r" (\w+)", text):
            if m.group(1).lower() in BREAK_BEFORE and 25 <= m.start() <= TITLE_MAX:
                cut = m.start()
    return text[:cut] if cut > 0 else text[: TITLE_MAX + 1].rsplit(" ", 1)[0]


def make_title(sentence: str, fallback_keywords: Sequence[str] = ()) -> str:
    """A title of at most 60 characters from a hook sentence: cleaned, cut on a clause or phrase, title-cased."""
    text = clean_sentence(sentence)
    question = text.endswith("?")
    text = text.rstrip(" .!?;:,")
    short = _shorten(text)
    question = question and short == text
    toks = short.split()
    # Never end on a dangling function word ("... with the", "... and"); a cut sentence is held to more.
    bad = BAD_TITLE_ENDINGS if short != text else FRAGMENT_ENDINGS
    while len(toks) > 1 and toks[-1].lower().strip(",.;:'\"") in bad:
        toks.pop()
    text = " ".join(toks).rstrip(" ,;:-")
    if len(words(text)) < 2 and fallback_keywords:
        text = " ".join(fallback_keywords[:3])
    title = title_case(text) + ("?" if question and len(text) < TITLE_MAX else "")
    return title[:TITLE_MAX].rstrip() or "Untitled Clip"


def make_description(sentence: str, max_chars: int = 160) -> str:
    """One line: a cleaned sentence, shortened on a word boundary with an ellipsis if needed."""
    text = clean_sentence(sentence)
    if text:
        text = text[0].upper() + text[1:]
    if len(text) > max_chars:
        text = text[: max_chars - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "\u2026"
    return text.replace("\n", " ")


def hashtag(word: str) -> str:
    return "#" + re.sub(r"[^a-z0-9]", "", word.lower())


def make_hashtags(keywords: Sequence[str], topic_tag: str | None, k_min: int = 3, k_max: int = 5) -> list[str]:
    """3-5 unique hashtags: clip keywords (most distinctive first), then the topical tag, then fillers."""
    tags: list[str] = []
    for w in keywords:
        tag = hashtag(w)
        if len(tag) > 2 and tag not in tags:
            tags.append(tag)
        if len(tags) >= k_max - 1:
            break
    if topic_tag and hashtag(topic_tag) not in tags:
        tags.append(hashtag(topic_tag))
    for extra in ("#shorts", "#clips", "#podcast"):
        if len(tags) >= k_min:
            break
        if extra not in tags:
            tags.append(extra)
    return tags[:k_max]
