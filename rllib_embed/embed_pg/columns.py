"""Batch column and forward-output names used by EmbedPG beyond RLlib's `Columns`."""

# The two parts of a multi-task observation (see rllib_embed.envs.MultiTaskEnv).
OBS_KEY = "obs"
TASK_KEY = "task"

# Env runners: the standard-normal noise that drew the episode's skill `z`
# (`z = mu_phi(t) + sigma_phi(t) * Z_NOISE`). Recorded per step, so the learner
# rebuilds the episode's `z` with its current parameters.
Z_NOISE = "z_noise"
# Optional, at inference: a skill `z` given directly (e.g. by a high-level policy),
# bypassing p(z|t). Training always rebuilds z from Z_NOISE.
SKILL = "skill"
# Env runners: which environment an episode ran in (its global K x D index), kept in
# the episode's custom_data so the embedding baseline can leave out that env's segments.
ENV_ID = "env_id"

# Learner connectors.
OBS_WINDOW = "obs_window"  # s^H: (s_{i-H+1}, ..., s_i), shape [B, H, obs_dim]
SEGMENT_ID = "segment_id"  # which episode chunk (of one env's I-step segment) a row is in
SEGMENT_ENV = "segment_env"  # the env (ENV_ID) that produced the row's segment
STEP_IN_SEGMENT = "step_in_segment"  # i, counted from the chunk's first step
# (I - i)/I: how much of the I-step sample is left after step i of a segment, an input
# of V's baseline (returns are truncated at the sample's end, which the state does not
# show). A function of i alone, so the baseline never sees how the episode goes on.
TIME_LEFT = "time_left"
# advantages="gae": the `obs` part of s_{i+1}, the observation after step i (at a segment's
# last row, the one after the cut or the time-limit truncation: V's bootstrap input).
NEXT_OBS = "next_obs"
INTRINSIC_LOG_Q = "intrinsic_log_q"  # log q(z | a_i, s_i^H), no gradient
INTRINSIC_ENTROPY = "intrinsic_entropy"  # H[pi(.|s_i, z)], no gradient
AUGMENTED_REWARD = "augmented_reward"  # r_hat_i
POLICY_WEIGHT = "policy_weight"  # weight of log pi(a_i|s_i,z_phi): R, or R_i, minus baseline
EMBEDDING_WEIGHT = "embedding_weight"  # weight of log p(z|t): segment R minus its baseline, on each of its rows
SEGMENT_SHARE = "segment_share"  # 1 / rows of the row's segment: its share of the segment's terms
PATHWISE_SCALE = "pathwise_scale"  # 1 / std of the row's task's advantages where standardised, else 1
VALUE_TARGETS = "value_targets"  # regression target of V(s_i, z)
# Pre-update values for the clipped update's ratios (the learner's pass before the first epoch).
SAMPLED_SKILL = "sampled_skill"  # z as sampled for the episode, a constant
EMBEDDING_LOGP_OLD = "embedding_logp_old"  # log p_old(z | t)

# Forward-train outputs of the module.
Z_PHI = "z_phi"  # re-parameterised z, differentiable w.r.t. phi
EMBEDDING_MEAN = "embedding_mean"
EMBEDDING_LOG_STD = "embedding_log_std"
ALL_TASKS_EMBEDDING_LOG_STD = "all_tasks_embedding_log_std"  # [K, latent], for H[p(.|t_k)]
Q_MEAN_REPARAM_ACTION = "q_mean_reparam_action"  # q(.|a_i(theta,phi), s^H)
Q_LOG_STD_REPARAM_ACTION = "q_log_std_reparam_action"
Q_MEAN_SAMPLED_ACTION = "q_mean_sampled_action"  # q(.|a_i, s^H), a_i constant
Q_LOG_STD_SAMPLED_ACTION = "q_log_std_sampled_action"
