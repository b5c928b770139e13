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
    b = leave_one_out_task_baseline(ret, task, torch.arange(4))
    # Same task: the others' mean. Task 1 has no other segment: all other segments' mean.
    torch.testing.assert_close(b, torch.tensor([4.0, 3.0, 2.0, 3.0], dtype=torch.float64))
    # A segment's own return never enters its own baseline.
    ret2 = ret.clone()
    ret2[0] = 100.0
    assert leave_one_out_task_baseline(ret2, task, torch.arange(4))[0] == b[0]


def test_embedding_baseline_leaves_out_every_segment_of_the_same_env():
    # Segments 0 and 1 ran in env 7 one after the other (1 may start where 0's episode
    # terminated, so its return can depend on 0's z); segment 2 ran in env 8.
    ret = torch.tensor([1.0, 50.0, 3.0])
    b = leave_one_out_task_baseline(ret, torch.tensor([0, 0, 0]), torch.tensor([7, 7, 8]))
    torch.testing.assert_close(b, torch.tensor([3.0, 3.0, 25.5], dtype=torch.float64))


def test_returns_are_exact_for_gamma_zero_and_long_segments():
    r_hat = torch.ones(300)
    steps, seg = torch.arange(300), torch.zeros(300, dtype=torch.long)
    R, R_i, G = segment_returns(r_hat, steps, seg, gamma=0.0)
    assert torch.equal(G, torch.ones(300, dtype=torch.float64)) and R_i[1:].abs().max() == 0
    _, _, G = segment_returns(r_hat, steps, seg, gamma=0.5)
    torch.testing.assert_close(G[-3:], torch.tensor([1.75, 1.5, 1.0], dtype=torch.float64))
