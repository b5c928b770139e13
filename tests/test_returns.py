"""The surrogate's weights: returns stay inside their segment; baselines are free of z."""

import torch

from rllib_embed.embed_pg.returns import augmented_reward, leave_one_out_task_baseline, segment_returns


def _by_loop(r_hat, steps, gamma):
    """Reference: explicit sums per segment (a segment starts where step == 0)."""
    R, R_i, G_i, start = [], [], [], 0
    bounds = [i for i, s in enumerate(steps) if s == 0] + [len(steps)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        seg = r_hat[a:b]
        total = sum(gamma ** j * seg[j] for j in range(b - a))
        for i in range(b - a):
            R.append(total)
            R_i.append(sum(gamma ** j * seg[j] for j in range(i, b - a)))
            G_i.append(sum(gamma ** (j - i) * seg[j] for j in range(i, b - a)))
    return [torch.tensor(x, dtype=torch.float64) for x in (R, R_i, G_i)]


def test_segment_returns_match_explicit_sums_and_never_cross_segments():
    r_hat = torch.tensor([1.0, -2.0, 3.0, 0.5, 4.0, -1.0, 2.0])
    steps = torch.tensor([0, 1, 2, 0, 1, 0, 1])
    seg = torch.tensor([0, 0, 0, 1, 1, 2, 2])
    got = segment_returns(r_hat, steps, seg, gamma=0.9)
    for g, e in zip(got, _by_loop(r_hat.tolist(), steps.tolist(), 0.9)):
        torch.testing.assert_close(g, e)
    # A huge reward in the next segment changes nothing in this one.
    r2 = r_hat.clone()
    r2[3] = 1e6
    torch.testing.assert_close(segment_returns(r2, steps, seg, 0.9)[1][:3], got[1][:3])


def test_augmented_reward():
    got = augmented_reward(torch.tensor(1.0), torch.tensor(-2.0), torch.tensor(3.0), 0.5, 0.1)
    assert abs(got.item() - (1.0 + 0.5 * -2.0 + 0.1 * 3.0)) < 1e-6


def test_embedding_baseline_is_the_mean_of_the_other_segments():
    ret = torch.tensor([1.0, 3.0, 5.0, 10.0])
    task = torch.tensor([0, 0, 0, 1])
    b = leave_one_out_task_baseline(ret, task, num_tasks=2)
    # Same task: the others' mean. Task 1 has no other segment: all other segments' mean.
    torch.testing.assert_close(b, torch.tensor([4.0, 3.0, 2.0, 3.0], dtype=torch.float64))
    # A segment's own return never enters its own baseline.
    ret2 = ret.clone()
    ret2[0] = 100.0
    assert leave_one_out_task_baseline(ret2, task, 2)[0] == b[0]
