"""The newer import formats, laid out for the hostile-input battery (formats.py): items
(listwise, UltraFeedback, HelpSteer2, an item mapping), step-by-step solutions (ProcessBench,
BIG-Bench-Mistake, PRM800K, the stepwise layout, a step mapping), judge verdicts and
benchmarks, each with the rows one good unit of it stores."""

from __future__ import annotations

from tests.security.formats import NOTE, Format, Record, rater_with, set_at

SCORE = {"attributes": [{"name": "score", "low": 1, "high": 5}], "overall": {"score": 1}}
ASPECTS = {
    "attributes": [{"name": n, "low": 1, "high": 5} for n in ("helpfulness", "honesty")],
    "overall": {"helpfulness": 1, "honesty": 1},
}
HS2 = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
HS2_SETTINGS = {
    "attributes": [{"name": n, "low": 0, "high": 4} for n in HS2],
    "overall": {"helpfulness": 1},
}


# --- items ------------------------------------------------------------------------------------


def _listwise(i: int, t: str) -> list[Record]:
    return [
        {
            "id": f"lw-{i}",
            "prompt": f"{t} prompt {i}",
            "responses": [f"{t} first {i}", {"text": f"{t} second {i}", "model": f"{t} m"[:200]}],
            "ranking": [1, 2],
        }
    ]


def _ultrafeedback(i: int, t: str) -> list[Record]:
    def completion(k: int, help_: str, honest: str) -> Record:
        return {
            "model": f"model {k}",
            "response": f"{t} answer {k} of {i}",
            "annotations": {"helpfulness": {"Rating": help_}, "honesty": {"Rating": honest}},
        }

    return [
        {
            "instruction": f"{t} prompt {i}",
            "completions": [completion(0, "5", "4"), completion(1, "2", "3")],
        }
    ]


def _helpsteer2(i: int, t: str) -> list[Record]:
    def row(k: int, help_: int) -> Record:
        values = dict.fromkeys(HS2, 2) | {"helpfulness": help_}
        return {"prompt": f"{t} prompt {i}", "response": f"{t} answer {k} of {i}", **values}

    return [row(0, 4), row(1, 1)]


def _item_rows(i: int, t: str) -> list[Record]:
    return [
        {"q": f"{t} prompt {i}", "r": f"{t} answer 0 of {i}", "s": 5, "note": t},
        {"q": f"{t} prompt {i}", "r": f"{t} answer 1 of {i}", "s": 2, "note": t},
    ]


# Two responses ranked by one rater: one item, its two responses, one answer, and the pair it
# derives with one vote. Rated on two aspects (and the overall score of a rating project): a
# pair each, one vote each.
_RANKED = {"items": 1, "item_responses": 2, "answers": 1, "new_pairs": 1, "new_votes": 1}
_RATED_TWO = {"items": 1, "item_responses": 2, "answers": 1, "new_pairs": 3, "new_votes": 3}
_RATED_FIVE = {"items": 1, "item_responses": 2, "answers": 1, "new_pairs": 6, "new_votes": 6}

ITEM_FORMATS = [
    Format(
        "listwise", "import", _listwise, set_at("responses", 0), "responses[0]", _RANKED,
        scheme="ranking", settings=SCORE, quote=set_at("ranking", 1),
        pages=("project", "label", "report"),
        others=((set_at("prompt"), "prompt"), (set_at("id"), "id"),
                (set_at("responses", 1, "model"), "responses[1].model"), NOTE,
                (rater_with("ranking", [1, 2]), "ranking.rater{v}")),
    ),
    Format(
        "ultrafeedback", "import", _ultrafeedback, set_at("completions", 1, "response"),
        "completions[1].response", _RATED_TWO, scheme="rating", settings=ASPECTS,
        quote=set_at("completions", 0, "annotations", "honesty", "Rating"),
        pages=("project", "label", "report"),
        others=((set_at("instruction"), "instruction"),
                (set_at("completions", 0, "model"), "completions[0].model"), NOTE),
    ),
    Format(
        "helpsteer2", "import", _helpsteer2, set_at("response"), "response", _RATED_FIVE,
        scheme="rating", settings=HS2_SETTINGS, quote=set_at("coherence"),
        pages=("project", "label", "report"), others=((set_at("prompt"), "prompt"), NOTE),
    ),
    Format(
        "item-mapping", "import", _item_rows, set_at("r"), "r", _RANKED, scheme="ranking",
        settings=SCORE, fmt="mapping", mapping={"prompt": "q", "response": "r", "score": "s"},
        quote=set_at("s"), pages=("project", "label", "report"),
        others=((set_at("q"), "q"), (set_at("note"), "note"), NOTE),
    ),
]  # fmt: skip


# --- step-by-step solutions -------------------------------------------------------------------


def _processbench(i: int, t: str) -> list[Record]:
    return [
        {
            "id": f"pb-{i}",
            "generator": "model x",
            "problem": f"{t} problem {i}",
            "steps": [f"{t} step one of {i}", f"{t} step two of {i}"],
            "final_answer_correct": False,
            "label": 1,
        }
    ]


def _bbm(i: int, t: str) -> list[Record]:
    return [
        {
            "input": f"{t} problem {i}",
            "steps": [f"{t} step one of {i}", f"{t} step two of {i}"],
            "target": "(A)",
            "answer": "(B)",
            "mistake_index": 0,
        }
    ]


def _prm800k(i: int, t: str) -> list[Record]:
    def step(text: str, rating: int, chosen: int | None) -> Record:
        return {"completions": [{"text": text, "rating": rating}], "chosen_completion": chosen}

    return [
        {
            "labeler": "labeller-1",
            "question": {"problem": f"{t} problem {i}", "ground_truth_answer": "4"},
            "label": {
                "steps": [
                    step(f"{t} step one of {i}", 1, 0),
                    step(f"{t} step two of {i}", -1, None),
                ],
                "finish_reason": "found_error",
            },
        }
    ]


def _stepwise(i: int, t: str) -> list[Record]:
    steps = [f"{t} step one of {i}", f"{t} step two of {i}"]
    return [{"prompt": f"{t} problem {i}", "completions": steps, "labels": [True, False]}]


def _step_columns(i: int, t: str) -> list[Record]:
    steps = [f"{t} step one of {i}", f"{t} step two of {i}"]
    return [{"question": f"{t} problem {i}", "solution": steps, "wrong_at": 1, "who": "grader"}]


# One solution: an item of one response (the steps), and its labeller's answer.
_SOLVED = {"items": 1, "item_responses": 1, "answers": 1}

STEP_FORMATS = [
    Format(
        "processbench", "import", _processbench, set_at("steps", 1), "steps", _SOLVED,
        scheme="steps", pages=("project", "steps", "report"),
        others=((set_at("problem"), "problem"), (set_at("generator"), "generator"),
                (set_at("id"), "id"), NOTE),
    ),
    Format(
        "bbm", "import", _bbm, set_at("input"), "input", _SOLVED, scheme="steps",
        pages=("project", "steps", "report"),
        others=((set_at("steps", 0), "steps"), (set_at("target"), "target"),
                (set_at("answer"), "answer"), NOTE),
    ),
    Format(
        "prm800k", "import", _prm800k, set_at("label", "steps", 0, "completions", 0, "text"),
        "label.steps[0].completions[0].text", _SOLVED, scheme="steps",
        quote=set_at("label", "steps", 0, "chosen_completion"),
        pages=("project", "steps", "report"),
        others=((set_at("question", "problem"), "question.problem"), (set_at("labeler"), "labeler"),
                (set_at("question", "ground_truth_answer"), "question.ground_truth_answer"),
                NOTE),
    ),
    Format(
        "stepwise", "import", _stepwise, set_at("completions", 0), "completions", _SOLVED,
        scheme="steps", quote=set_at("labels", 1), pages=("project", "steps", "report"),
        others=((set_at("prompt"), "prompt"), NOTE),
    ),
    Format(
        "step-mapping", "import", _step_columns, set_at("question"), "question", _SOLVED,
        scheme="steps", fmt="mapping",
        mapping={"prompt": "question", "steps": "solution", "first_error": "wrong_at",
                 "annotator": "who"},
        pages=("project", "steps", "report"),
        others=((set_at("who"), "who"), (set_at("solution", 0), "solution"), NOTE),
    ),
]  # fmt: skip


# --- judge verdicts and benchmarks ------------------------------------------------------------


def _verdict(i: int, t: str) -> list[Record]:
    # the pairs Stored holds by default are PandaLM's, idx 0 to 19
    return [{"idx": i, "verdict": "a", "reason": f"{t} reason {i}"}]


def _rewardbench(i: int, t: str) -> list[Record]:
    return [
        {
            "id": f"rb-{i}",
            "prompt": f"{t} prompt {i}",
            "chosen": f"{t} good {i}",
            "rejected": f"{t} bad {i}",
            "subset": f"{t[:60]} subset",  # a category: 100 characters kept
        }
    ]


def _judgebench(i: int, t: str) -> list[Record]:
    return [
        {
            "pair_id": f"jb-{i}",
            "question": f"{t} question {i}",
            "response_A": f"{t} answer A {i}",
            "response_B": f"{t} answer B {i}",
            "label": "A>B",
            "source": f"{t[:60]} source",
        }
    ]


def _rmbench(i: int, t: str) -> list[Record]:
    styles = ("short", "long", "markdown")
    return [
        {
            "id": f"rm-{i}",
            "prompt": f"{t} prompt {i}",
            "subset": "chat",
            "chosen": [f"{t} right {style} {i}" for style in styles],
            "rejected": [f"{t} wrong {style} {i}" for style in styles],
        }
    ]


OTHER_FORMATS = [
    Format("verdicts", "verdicts", _verdict, set_at("reason"), "reason", {"verdicts": 1},
           quote=set_at("verdict"), others=((set_at("idx"), "idx"),)),
    Format("rewardbench", "benchmark", _rewardbench, set_at("chosen"), "chosen",
           {"new_pairs": 1}, fmt="rewardbench", pages=("project",),
           others=((set_at("prompt"), "prompt"), (set_at("subset"), "subset"),
                   (set_at("id"), "id"))),
    Format("judgebench", "benchmark", _judgebench, set_at("response_B"), "response_B",
           {"new_pairs": 1}, fmt="judgebench", quote=set_at("label"), pages=("project",),
           others=((set_at("question"), "question"), (set_at("source"), "source"),
                   (set_at("pair_id"), "pair_id"))),
    Format("rmbench", "benchmark", _rmbench, set_at("rejected", 2), "rejected[2]",
           {"new_pairs": 9}, fmt="rmbench", pages=("project",),
           others=((set_at("prompt"), "prompt"), (set_at("chosen", 0), "chosen[0]"),
                   (set_at("subset"), "subset"), (set_at("id"), "id"))),
]  # fmt: skip

FORMATS = [*ITEM_FORMATS, *STEP_FORMATS, *OTHER_FORMATS]
IDS = [f.name for f in FORMATS]
