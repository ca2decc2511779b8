"""What a claim sentence says: its type, whether it is hedged or negated, its evidence cues.

Pure: no I/O; decides nothing about whether a sentence is a claim (see `claimfilters`).
Every lexicon below is a list of cue words from the definition in shared/claims/GUIDE.md and
common health-reporting phrasing, not from any one article.
"""

from __future__ import annotations

import re

from digest.claims.claim import ClaimType, Evidence


def lowered(source: str, flags: int = 0) -> re.Pattern[str]:
    """A case-insensitive pattern compiled for text that is already lower-cased: its letters
    lower-cased (escapes such as \\W kept) and no re.IGNORECASE, which makes Python's engine
    two to three times slower. Every caller searches `text.lower()`; a test checks, over the
    pool's sentences, that each such pattern finds what its re.I form finds in the original."""
    source = re.sub(r"\\.|[A-Z]", lambda m: m[0] if m[0][0] == "\\" else m[0].lower(), source)
    return re.compile(source, flags)


def _words(*alternatives: str) -> re.Pattern[str]:
    """A pattern (for lower-cased text) matching any alternative on word boundaries."""
    return lowered(r"\b(?:" + "|".join(alternatives) + r")\b")


# --- hedging: epistemic modals and verbs of appearance / suggestion -----------------------
HEDGE_RE = _words(
    "may",
    "might",
    "could",
    r"seem(?:s|ed|ingly)?",
    r"appear(?:s|ed)? to",
    "likely",
    "unlikely",
    "possibl[ey]",
    "probably",
    "perhaps",
    "maybe",
    r"suggest(?:s|ed|ing)?",
    "potentially",
    r"tends? to",
    r"I (?:think|guess|believe|suspect)",
    "not (?:yet )?clear",
)

# --- negation: "does not help" or "helps only partly" ------------------------------------
_EFFECT_VERB = (
    r"(?:help|work|reliev|reduc|eas|improv|cur|heal|treat|prevent|benefit|go far enough"
    r"|do (?:much|anything|any good))\w*"
)
NEGATION_RE = lowered(
    r"(?:\b(?:not|never|no|cannot|can't|won't|doesn't|don't|didn't|isn't|aren't|wasn't"
    r"|fails? to|failed to)\b(?:\W+\w+){0,3}?\W+" + _EFFECT_VERB + r")"
    r"|\b(?:in|relatively |largely |mostly )?ineffective\b|\bnot (?:very |as |more )?effective\b"
    r"|\bnot (?:\w+ ){0,3}for everyone\b|\bonly (?:partly|partially|temporar\w+|briefly)\b"
    r"|\b(?:little|no|weak|insufficient|limited) (?:\w+ )?(?:evidence|benefit|effect)\b"
    r"|\black of (?:\w+ ){0,2}evidence\b|\bno better than\b"
    r"|\bnever long[ -]lasting\b|\bshort[- ]lived\b"
)

# --- evidence cues ------------------------------------------------------------------------
STUDY_RE = _words(
    r"stud(?:y|ies|ied)",
    r"research(?:ers)?",
    r"trials?",
    r"journals?",
    "evidence",
    "meta-analys[ie]s",
    r"systematic reviews?",
    r"surveys?",
    r"experiments?",
    r"scientists?",
    "clinically (?:proven|shown|tested)",
    r"published",
    r"findings",
    r"data",
)
_ATTRIBUTION_VERB = (
    r"(?:says|said|adds|added|explains|explained|notes|noted|advises|advised|writes|wrote"
    r"|recommends|cautions|warns|agrees|argues|points out)"
)
_NAME = r"(?:Dr\.?\s+)?[A-Z][a-z'’-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-z'’-]+)?"
_PROFESSION = (
    r"(?:Dr\.|doctor|physician|chiropractor|physiatrist|surgeon|physiotherapist|therapist"
    r"|professor|researcher|author|orthopedist|osteopath|nurse|director|M\.D\.|Ph\.D\.)"
)
EXPERT_RE = re.compile(
    r"\b" + _ATTRIBUTION_VERB + r",?\s+" + _NAME + r"(?![a-z])"
    r"|(?<![.!?]\s)(?<!^)\b" + _NAME + r",?\s+" + _ATTRIBUTION_VERB + r"\b"
    r"|\b(?:he|she)\s+" + _ATTRIBUTION_VERB + r"\b"
    r"|\baccording to\s+" + _NAME + r"(?![a-z])"
    r"|\b" + _PROFESSION + r"\s+" + _NAME + r"\s+" + _ATTRIBUTION_VERB + r"\b"
    r"|,\s*(?:M\.D\.|Ph\.D\.|D\.C\.|R\.N\.|LMT)",
)
# Names that are not people: a capitalised study word before "says" is `study`, not expert.
_NOT_A_PERSON_RE = _words("research", "science", "study", "evidence", "data", "massage", "it")
_NUMBER_WORD = (
    r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
    r"|forty|fifty|hundred|thousand|million|billion|dozen|one)"
)
_UNIT = (
    r"(?:years?|months?|weeks?|days?|hours?|minutes?|sessions?|treatments?|times|people"
    r"|patients|adults|participants|Americans|percent|per cent|states)"
)
STATISTIC_RE = lowered(
    r"(?<![\w.])\d[\d,.]*(?:\s*%|\b)(?![A-Za-z]{2})"
    r"|\b(?:one|two|three)-(?:thirds?|quarters?|fourths?|fifths?|halves?)\b"
    r"|\b(?:half|a third|a quarter|twice|percent|per cent|majority of|minority of)\b"
    r"|\b" + _NUMBER_WORD + r"(?:[\s-]+\w+)?\s+" + _UNIT + r"\b"
)

# --- types: cue lexicons, scored; ties go to the earlier type in TYPE_PRIORITY ------------
TYPE_CUES: dict[ClaimType, re.Pattern[str]] = {
    "cost_access": _words(
        r"costs?",
        r"pric(?:e|es|ey|ing)",
        r"afford\w*",
        r"(?:in)?expensive",
        "cheap\\w*",
        r"insur\w+",
        r"covered|coverage",
        r"reimburs\w+",
        r"pay(?:s|ing)?",
        r"fees?",
        r"prescriptions?",
        r"available|availability|access(?:ible)?",
        "low-cost|free of charge",
    ),
    "practice_training": _words(
        r"train(?:ing|ed)",
        r"licen[cs](?:e|es|ed|ing|ure)",
        r"certif\w+",
        r"accredit\w*",
        r"schools?",
        r"qualif\w+",
        r"credentials?",
        r"guidelines?",
        r"recommend(?:s|ed)? by",
        r"(?:is|are) (?:often |commonly |usually |widely )?(?:recommended|prescribed|used|done)",
        r"forms? used",
        r"techniques?",
        r"approach(?:es)?",
        r"practi(?:c|s)e(?:s|d)?",
        r"therapists? (?:\w+ ){0,2}(?:use|work|tailor|combine|apply|perform)",
    ),
    "safety": _words(
        r"risks?",
        r"risky",
        r"side effects?",
        r"safe(?:ly|ty)?",
        r"unsafe",
        r"dangerous|danger",
        r"harm\w*",
        r"wors(?:e|en|ened|ening)",
        r"(?:non-)?invasive",
        r"contraindicat\w+",
        r"approval",
        r"caution",
        r"bruis\w+",
        r"adverse",
        r"complications?",
        r"downsides?",
        r"go wrong",
    ),
    "dosage": _words(
        r"sessions?",
        r"(?:once|twice|times) (?:a|per) (?:week|month|day)",
        r"weekly|daily|monthly",
        r"how often",
        r"frequen\w+",
        r"period of time|length of time|over time",
        r"series of",
        r"duration",
        r"\d+(?:-\d+)? (?:minutes?|hours?|weeks?)",
        r"regular(?:ly)?",
    ),
    "mechanism": _words(
        r"blood",
        r"lymph\w*",
        r"circulat\w+",
        r"flow\w*",
        r"tissues?",
        r"fib(?:er|re)s?",
        r"waste products?",
        r"toxins?",
        r"lactic acid",
        r"scar",
        r"nerves?",
        r"endorphins?|serotonin|cortisol|hormones?",
        r"inflammation",
        r"oxygen",
        r"points",
        r"stimulat\w+",
        r"loosen\w*",
        r"stretch(?:ed|es)?",
        r"works by",
        r"knots?",
    ),
    "cause_prevalence": _words(
        r"caus(?:e|es|ed|ing)",
        r"leads? to|led to",
        r"linked to|associated with",
        r"contribut\w+ factor",
        r"risk factors?",
        r"due to",
        r"result of",
        r"common(?:ly)?",
        r"prevalen\w+",
        r"suffer\w*",
        r"adults|Americans",
        r"micro-injur\w+",
        r"creat(?:e|es|ing) \w+ imbalances?",
    ),
    "efficacy": _words(
        r"help(?:s|ed|ing)?",
        r"reliev\w+|relief",
        r"effective(?:ly|ness)?",
        r"ineffective",
        r"works?",
        r"benefits?",
        r"improve[sd]?|improvement",
        r"reduc\w+",
        r"eas(?:e|es|ed|ing)",
        r"alleviat\w+",
        r"evidence",
    ),
}
# The same seven types in health news at large, from the type table of docs/claims.md (written
# from the definitions, not from labelled sentences): features for the learned type model,
# which also sees TYPE_CUES and the sentence's words.
GENERAL_TYPE_CUES: dict[ClaimType, re.Pattern[str]] = {
    "safety": _words(
        r"side[- ]effects?",
        r"adverse",
        r"risks? of",
        r"harm\w*",
        r"complications?",
        r"toxic\w*",
        r"bleeding",
        r"injur(?:y|ies|ed)",
        r"dangerous",
        r"safe(?:ly|ty)?",
        r"unsafe",
        r"tolerated",
        r"contraindicat\w+",
        r"warnings?",
        r"overdose\w*",
        r"addict\w*",
    ),
    "cost_access": _words(
        r"costs?",
        r"pric(?:e|es|ey|ing)",
        r"dollars?",
        r"afford\w*",
        r"insur\w+",
        r"medicare|medicaid",
        r"covered|coverage",
        r"reimburs\w+",
        r"approv(?:e|ed|al|es)",
        r"FDA",
        r"clear(?:ed|ance)",
        r"available|availability|access",
        r"market(?:ed)?",
        r"launch\w*",
        r"generic",
        r"(?:in)?expensive|cheap\w*",
    ),
    "practice_training": _words(
        r"guidelines?",
        r"recommend\w*",
        r"prescri(?:be|bed|bes|bing|ption)",
        r"standard of care",
        r"first[- ]line",
        r"practi[cs]\w*",
        r"train(?:ed|ing)",
        r"licen[cs]\w*",
        r"certif\w+",
        r"specialists?",
        r"refer(?:red|ral)s?",
        r"(?:widely|commonly|routinely|often|rarely) used",
        r"perform(?:ed|s)?",
        r"offer(?:ed|s)?",
    ),
    "dosage": _words(
        r"dos(?:e|es|age|ing)",
        r"mg|milligrams?",
        r"daily|weekly|monthly",
        r"(?:once|twice|times) (?:a|per) (?:day|week|month)",
        r"sessions?",
        r"regimen",
        r"\d+ (?:minutes?|hours?|weeks?|months?)",
    ),
    "mechanism": _words(
        r"by (?:blocking|reducing|increasing|stimulating|boosting|lowering|targeting|binding)",
        r"works? by",
        r"cells?",
        r"proteins?",
        r"genes?|genetic",
        r"receptors?",
        r"enzymes?",
        r"hormones?",
        r"nerves?|neurons?",
        r"brain",
        r"immune",
        r"inflammat\w+",
        r"blood (?:flow|vessels?)",
        r"molecules?|molecular",
        r"pathways?",
        r"tissues?",
        r"muscles?",
    ),
    "cause_prevalence": _words(
        r"caus(?:e|es|ed|ing)",
        r"risk factors?",
        r"linked to|associated with|tied to",
        r"leading cause",
        r"common(?:ly)?",
        r"prevalen\w+",
        r"affects?",
        r"million",
        r"americans|adults",
        r"develop(?:s|ed|ing)?",
        r"diagnos(?:ed|is)",
        r"incidence",
        r"suffer\w*",
        r"obes\w+|smok\w+|age[ds]?",
    ),
    "efficacy": _words(
        r"reduc\w+",
        r"improv\w+",
        r"effective\w*|efficacy",
        r"benefits?",
        r"reliev\w+|relief",
        r"help(?:s|ed)?",
        r"(?:better|worse) than",
        r"outperform\w*",
        r"placebo",
        r"respon(?:se|ded|ders?)",
        r"survival|surviv\w+",
        r"remission",
        r"cur(?:e|ed|es)",
        r"lower(?:ed|s)? (?:the )?risk",
        r"evidence",
    ),
}
TYPE_PRIORITY: tuple[ClaimType, ...] = (
    "cost_access",
    "safety",
    "practice_training",
    "dosage",
    "cause_prevalence",
    "mechanism",
    "efficacy",
)


def is_hedged(text: str) -> bool:
    """Whether the sentence is hedged (may, might, could, seems, likely, suggests, …)."""
    return HEDGE_RE.search(text.lower()) is not None


def is_negated(text: str) -> bool:
    """Whether it says something does not help, or helps only partly."""
    return NEGATION_RE.search(text.lower()) is not None


def has_expert(text: str) -> bool:
    """Whether the sentence is attributed to a named professional."""
    matches = EXPERT_RE.finditer(text)
    return any(not _NOT_A_PERSON_RE.search(match.group().lower()) for match in matches)


def evidence_of(text: str) -> tuple[Evidence, ...]:
    """The evidence cues in a sentence, sorted and unique."""
    found: list[Evidence] = []
    if has_expert(text):
        found.append("expert")
    lower = text.lower()
    if STATISTIC_RE.search(lower):
        found.append("statistic")
    if STUDY_RE.search(lower):
        found.append("study")
    return tuple(sorted(found))


# Efficacy cues (help, relieve, benefit) appear in sentences of every type, so they weigh
# half as much as the cues of the specific types.
TYPE_WEIGHTS: dict[ClaimType, int] = {kind: 1 if kind == "efficacy" else 2 for kind in TYPE_CUES}


def type_of(text: str) -> ClaimType:
    """The type with the highest weighted cue count; ties go to the earlier in TYPE_PRIORITY.

    A sentence with no cue at all is `efficacy`, the commonest type of health claim.
    """
    lower = text.lower()
    scores = {k: TYPE_WEIGHTS[k] * len(TYPE_CUES[k].findall(lower)) for k in TYPE_PRIORITY}
    best = max(TYPE_PRIORITY, key=lambda kind: (scores[kind], -TYPE_PRIORITY.index(kind)))
    return best if scores[best] else "efficacy"
