"""The screening engine: rule sets as data, evaluated purely, with no Django import.

Load a rule file with `rule_set_load`, then `evaluate` answers against it; store
`ScreeningResult.to_dict()` and read it back with `screening_result_from_dict`.
See docs/screening.md.
"""

from intake.screening.conditions import AGE, OPERATORS
from intake.screening.engine import age_on, evaluate
from intake.screening.results import (
    OUTCOME_RANK,
    FiredRule,
    Outcome,
    ScreeningResult,
    SensitivityProfile,
    Text,
    TreatmentOutcome,
    TriggerProfile,
    screening_result_from_dict,
)
from intake.screening.ruleset import (
    Defer,
    Rule,
    RuleSet,
    RuleSetInvalid,
    rule_set_load,
    shipped_rule_set_data,
    shipped_rule_set_path,
)

__all__ = [
    "AGE",
    "OPERATORS",
    "OUTCOME_RANK",
    "Defer",
    "FiredRule",
    "Outcome",
    "Rule",
    "RuleSet",
    "RuleSetInvalid",
    "ScreeningResult",
    "SensitivityProfile",
    "Text",
    "TreatmentOutcome",
    "TriggerProfile",
    "age_on",
    "evaluate",
    "rule_set_load",
    "screening_result_from_dict",
    "shipped_rule_set_data",
    "shipped_rule_set_path",
]
