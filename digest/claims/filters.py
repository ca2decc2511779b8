"""Why a topical sentence is not a claim: the `none` rules of GUIDE.md, and anecdote cues.

Pure: no I/O. Each rule is a named cue lexicon; `exclusion_reason` returns the first rule
that fires, so a rejected sentence can always say why. Topic matching and context live in
`claims`; what a claim says (type, hedging, evidence) lives in `claimtypes`.
"""

from __future__ import annotations

import re

from digest.claims.cues import lowered

# Fewer words than this cannot carry a checkable assertion ("Why?", "New!", "Comments").
MIN_CLAIM_WORDS = 4

_WORD_RE = re.compile(r"[^\W\d_][\w'’-]*")
_OPENING_MARKERS_RE = re.compile(
    r"^(?:(?:so|and|but|also|then|first(?:ly)?|second(?:ly)?|finally|now|next|instead|plus"
    r"|otherwise|however|ok(?:ay)?|no|yes|well|sure|remember)\b[,:]?\s*)+",
    re.I,
)
# Leading subordinate clauses: the main clause starts after their first comma.
_SUBORDINATE_RE = re.compile(
    r"^(?:if|when|whenever|once|unless|before|after|while|as soon as|until|should|to \w+)\b", re.I
)
_IMPERATIVE_RE = re.compile(
    r"^(?:ask|find|try|call|check|visit|read|consult|talk|see|make|be|get|take|keep|add|drink"
    r"|avoid|consider|stop|seek|look|choose|learn|don['’]t|do not|never|let|go|start|begin"
    r"|join|click|share|leave|have|give|book|schedule|tell|contact|follow|watch|sign"
    r"|subscribe|discuss|speak|request|compare|bring|wear|enjoy|apply|use|please|note|pick"
    r"|search|download|print|email|shop|buy|order|discover|imagine|picture)\b",
    re.I,
)
_YOU_ADVICE_RE = re.compile(
    r"\byou(?:['’]d)? (?:\w+ )?(?:should|must|need to|have to|ought to|better)\b", re.I
)
_IMPERSONAL_ADVICE_RE = re.compile(
    r"\b(?:(?:it is|it['’]s) (?:always |usually |often |also |very |especially )?"
    r"(?:wise|important|best|a good idea|advisable|essential|vital|smart|worth|recommended)"
    r" to|(?:make|be) sure)\b",
    re.I,
)
_QUESTION_RE = lowered(
    r"\?[\"'”’)\]]*\s*$|\b(?:the (?:big |real |main )?question (?:\w+ )?is|question is whether)\b"
)
# One leading \b for the whole alternation (not one per alternative): the same matches, and
# the engine gives up at a non-boundary position at once (5x faster on news text).
_BOILERPLATE_RE = lowered(
    r"©|\b(?:share (?:on|this|via|with)|tweet|pin it|email this|print this|copyright"
    r"|all rights reserved|return (?:to|from)|back to top|skip to|home ?page|site ?map"
    r"|contact us|privacy policy|terms of (?:use|service)|read (?:more|all|the full)"
    r"|click (?:here|to)|view all|subscribe|sign up|newsletter|comments? (?:below|section|box)"
    r"|leave (?:\w+ ){0,2}comment|have your say|let us know|cookies?"
    r"|for (?:general )?information(?:al)? (?:purposes )?only|(?:construed|intended) as"
    r"|not (?:a substitute|meant to replace)|consult (?:your|a|an|appropriate)|the publisher"
    r"|not responsible for|affiliate|sponsored|advertis\w*)\b"
)
_EFFECT_RE = re.compile(
    r"\b(?:help|reliev|relief|reduc|eas(?:e|es|ed|ing)\b|improv|relax|loosen|stimulat|remov"
    r"|increas|decreas|lower|boost|prevent|treat|heal|cur(?:e|es|ed)\b|alleviat|sooth|releas"
    r"|restor|strengthen|wors|caus|flush|lessen|eliminat|enhanc|promot|aid|remed|effective"
    r"|work(?:s|ed)?\b|benefit)",
    re.I,
)
_VAGUE_PRAISE_RE = re.compile(
    r"\b(?:great|wonderful|amazing|fantastic|awesome|excellent|nice|lovely|real|good)"
    r" (?:tool|thing|way|option|idea|benefit|pleasure|treat|experience|choice)\b"
    r"|\bha(?:s|ve) (?:its|their) (?:benefits|advantages|merits|uses|place)\b"
    r"|\bfeels? (?:great|good|wonderful|amazing|fantastic)\b",
    re.I,
)
_DEFINITION_RE = re.compile(
    r"^(?:the |a |an )?(?:[\w'’-]+ ){0,6}?(?:uses|utili[sz]es|involves|employs|consists of"
    r"|refers to|is defined as|means|is a (?:form|type|kind|style|method) of)\b"
    r"|\b(?:has|have) (?:its|their) aim\b|\baims? (?:to|at)\b|\bis (?:designed|intended) to\b"
    r"|\bthe (?:goal|aim|purpose) of\b",
    re.I,
)
_QUANTIFIER_RE = re.compile(r"\b(?:many|most|some|few|often|usually|commonly|\d+)\b", re.I)
_DESIGN_RE = lowered(
    r"\b(?:participants|subjects|patients|volunteers|people|women|men|adults)\b(?:\s+\w+){0,3}"
    r"\s+(?:were|was) (?:then )?(?:randomly |randomi[sz]ed |)(?:assigned|recruited|enrolled"
    r"|divided|split|allocated|asked|given|followed|instructed)\b"
    r"|\beach (?:received|got|had|attended|underwent)\b"
    r"|\b(?:the|this|a) (?:study|trial|researchers?) (?:included|enrolled|recruited|involved"
    r"|followed|compared|looked at|randomly|divided|lasted)\b"
    r"|^(?:it|they|the (?:study|trial|team|researchers|investigators|authors))"
    r" (?:\w+ )?(?:involved|included|enrolled|recruited|measured|assessed|examined|analy[sz]ed"
    r"|tracked|surveyed|tested|gave|asked|randomly)\b"
)
# What the guide calls "about the source": publication, funding, affiliations, organisations.
_SOURCE_RE = lowered(
    r"\b(?:was|were|is|are|will be) (?:\w+ )?(?:published|presented|funded|supported|sponsored"
    r"|led|conducted|co-authored)\b|\bfunded by\b|\b(?:founded|headquartered|based) in\b"
    r"|\bis (?:a|an|the) (?:professor|director|chair|chief|president|researcher|leading"
    r"|non-?profit|company|provider|manufacturer)\b|\bconflicts? of interest\b|\bdisclos"
)
_RESEARCH_CALL_RE = lowered(
    r"\b(?:more|further|additional|larger|better)(?: \w+)? (?:research|studies|trials|evidence)"
    r"\b[^.;]{0,60}?\b(?:is|are) (?:still )?(?:needed|required|warranted)\b"
    r"|\bneeds? (?:more|further) (?:research|study)\b|\bwarrants? further\b"
    r"|\bshould be (?:further )?(?:studied|investigated|examined)\b"
)
_THOUGHT_EXPERIMENT_RE = lowered(
    r"^(?:in theory|imagine|suppose|let['’]s say|for the sake of argument|picture this|what if)\b"
)
# First person singular, after opinion frames ("I think", "I guess") are taken out: those
# frame a claim rather than tell an experience.
_OPINION_FRAME_RE = re.compile(
    r"\bI (?:do not |don['’]t |really |honestly |personally |would |['’]d )?"
    r"(?:think|guess|believe|feel|say|suspect|suppose|reckon|doubt)\b"
    r"|\bI['’]m (?:sure|convinced)\b|\bin my (?:opinion|view)\b|\bif you ask me\b"
)
_FIRST_SINGULAR_RE = re.compile(r"\bI\b(?!\.)|\b(?:[Mm]e|[Mm]y|[Mm]ine|[Mm]yself)\b")
_FIRST_PLURAL_RE = re.compile(r"\b(?:we|us|our|ourselves)\b|\bwe['’](?:re|ve|d|ll)\b", re.I)
_PATIENT_STORY_RE = re.compile(
    r"\b(?:she|he)\s+(?:could|was|had|felt|went|started|began|tried|got|found|noticed"
    r"|decided|returned|used to|no longer|finally|now)\b",
    re.I,
)
_QUOTED_RE = re.compile(r"[\"“”]")


def main_clause(text: str) -> str:
    """The sentence without opening markers ("So,", "But") and a leading "If …," clause."""
    clause = _OPENING_MARKERS_RE.sub("", text.strip())
    if _SUBORDINATE_RE.match(clause) and "," in clause:
        clause = clause.split(",", 1)[1].strip()
        clause = _OPENING_MARKERS_RE.sub("", clause)
    return clause


def _first_clause(text: str) -> str:
    """The main clause up to its first comma, semicolon or colon."""
    return re.split(r"[,;:]", main_clause(text), maxsplit=1)[0]


def is_advice(text: str) -> bool:
    """Imperatives and advice addressed to the reader ("ask your doctor", "you should")."""
    clause = main_clause(text)
    if _IMPERATIVE_RE.match(clause) or _IMPERSONAL_ADVICE_RE.search(text):
        return True
    return _YOU_ADVICE_RE.search(_first_clause(text)) is not None


def is_reader_aside(text: str) -> bool:
    """A main clause about what "you" can do or feel, with no effect to check."""
    clause = main_clause(text).lower()
    return clause.startswith("you ") and not _EFFECT_RE.search(clause)


def is_vague_praise(text: str) -> bool:
    """Praise with nothing to check: "massage is a great tool", "has its benefits"."""
    if not _VAGUE_PRAISE_RE.search(text):
        return False
    remainder = _VAGUE_PRAISE_RE.sub(" ", text)
    return _EFFECT_RE.search(remainder) is None


def is_definition(text: str) -> bool:
    """A definition of a technique or its aim, unless quantified ("many therapists use")."""
    return bool(_DEFINITION_RE.search(text)) and not _QUANTIFIER_RE.search(text)


# Extraction leftovers: image captions, references lists, the article talking about itself.
_LEFTOVER_RE = lowered(
    r"^(?:an? )?(?:image|photo|picture|illustration|video) of\b|\bwith the caption\b"
    r"|^[A-Z][\w'’-]+ [A-Z][\w'’-]+,.*\((?:19|20)\d\d[a-z]?\)"
    r"|\bin this (?:article|post|guide|piece|video)\b|\bshar(?:e|ing) this (?:page|article|post)\b"
)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("question", _QUESTION_RE),
    ("boilerplate", _BOILERPLATE_RE),
    ("leftover", _LEFTOVER_RE),
    ("study_design", _DESIGN_RE),
    ("about_source", _SOURCE_RE),
    ("research_call", _RESEARCH_CALL_RE),
    ("thought_experiment", _THOUGHT_EXPERIMENT_RE),
)


def exclusion_reason(text: str) -> str | None:
    """The first `none` rule that fires for a topical sentence, or None."""
    if len(_WORD_RE.findall(text)) < MIN_CLAIM_WORDS:
        return "too_short"
    lower = text.lower()
    for name, pattern in _RULES:  # compiled for lower-cased text (cues.lowered)
        if pattern.search(lower):
            return name
    checks = (
        ("advice", is_advice),
        ("reader_aside", is_reader_aside),
        ("vague_praise", is_vague_praise),
        ("definition", is_definition),
    )
    return next((name for name, check in checks if check(text)), None)


def is_first_person(text: str) -> bool:
    """First-person singular experience, once opinion frames are taken out."""
    return _FIRST_SINGULAR_RE.search(_OPINION_FRAME_RE.sub(" ", text)) is not None


def is_first_plural(text: str) -> bool:
    """Whether the sentence speaks as "we" (continues a story when one came before)."""
    return _FIRST_PLURAL_RE.search(text) is not None


def is_anecdote(text: str, *, attributed: bool) -> bool:
    """First-person experience or a reporter-told patient story.

    An expert quoted in the first person ("“I tell my patients…,” Reyes says") is not one.
    """
    if attributed and _QUOTED_RE.search(text):
        return False
    return is_first_person(text) or _PATIENT_STORY_RE.search(text) is not None
