"""PrefLab's reward-model science, pure torch/transformers (never imports django or webapp).

Data flow ("Secrets of RLHF Part II", Wang et al. 2024):

    (prompt, chosen, rejected) pairs
      -> text.rm_text: "User: ...\\nAssistant: <response>", cut from the left, and by
         default the response alone too (EnsembleConfig.features)
      -> encoder.Encoder: frozen transformer, mean-pooled, L2-normalised (N, D) embeddings
      -> cache.EmbeddingCache: each text embedded once per encoder setting, in files; or
         store.StoredEmbeddings: the same in a store every worker reaches (a scoring run's
         texts encoded in shards by many workers first, webapp/scoring/shards.py)
      -> ensemble.train_ensemble: M Bradley-Terry heads (out-of-fold by default) give per-pair
         margins d_m = r_m(chosen) - r_m(rejected)
         (finetune.finetune_ensemble: M full models instead; members: existing reward models
         and imported score columns, merged by combine_members)
      -> result.EnsembleResult: mu = mean d_m, sigma = population std, p_label = sigmoid(mu)
      -> flags.compute_flags: likely mislabelled, ambiguous, unstable, ... for review

    rated responses (prompt, response, a rating per attribute)
      -> pipeline.embed_responses, the same encoder and cache
      -> attributes.fit_attributes: one ridge head per attribute, out of fold by prompt, M per
         fold; a predicted score per response and attribute, and how well each is predicted
      -> attribute_flags: ratings far from every head, attributes nobody can predict, overall
         ratings that contradict the attribute ratings
"""

from workers.rm.attribute_flags import (
    FarRatings,
    far_ratings,
    overall_contradictions,
    pair_overall_contradictions,
    unpredictable_attributes,
)
from workers.rm.attributes import AttributeFit, AttributeResult, fit_attributes
from workers.rm.cache import EmbeddingCache
from workers.rm.config import (
    AttributeConfig,
    EncoderConfig,
    EnsembleConfig,
    FinetuneConfig,
    default_encoder_path,
)
from workers.rm.encoder import Encoder
from workers.rm.ensemble import train_ensemble
from workers.rm.finetune import finetune_ensemble
from workers.rm.flags import (
    FlagConfig,
    PairFlags,
    SigmaBins,
    binned_sigma,
    compute_flags,
    strength_deciles,
)
from workers.rm.members import combine_members, score_with_sequence_classifier
from workers.rm.pipeline import (
    embed_pairs,
    embed_responses,
    pair_texts,
    score_attributes,
    score_pairs,
)
from workers.rm.progress import Cancelled
from workers.rm.result import EnsembleResult, margin_stats, mean_model_correlation
from workers.rm.text import hh_prompt_messages, rm_text, rm_texts

__all__ = [
    "AttributeConfig",
    "AttributeFit",
    "AttributeResult",
    "Cancelled",
    "EmbeddingCache",
    "Encoder",
    "EncoderConfig",
    "EnsembleConfig",
    "EnsembleResult",
    "FarRatings",
    "FinetuneConfig",
    "FlagConfig",
    "PairFlags",
    "SigmaBins",
    "binned_sigma",
    "combine_members",
    "compute_flags",
    "default_encoder_path",
    "embed_pairs",
    "embed_responses",
    "far_ratings",
    "finetune_ensemble",
    "fit_attributes",
    "hh_prompt_messages",
    "margin_stats",
    "mean_model_correlation",
    "overall_contradictions",
    "pair_overall_contradictions",
    "pair_texts",
    "rm_text",
    "rm_texts",
    "score_attributes",
    "score_pairs",
    "score_with_sequence_classifier",
    "strength_deciles",
    "train_ensemble",
    "unpredictable_attributes",
]
