"""optim.swa_utils.Lookahead: the average and the write-back, against plain float64 arithmetic."""
import numpy as np
import pytest

import numbaconv as nc
from numbaconv import nn
from numbaconv.optim.swa_utils import Lookahead, lookahead_decay


def _model():
    nc.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, dtype=np.float64), nn.BatchNorm2d(3, dtype=np.float64))


def test_update_averages_every_float_state_and_writes_it_back():
    model = _model()
    lookahead = Lookahead(model)
    start = [t.detach().numpy().copy() for t in lookahead.weights]
    assert len(start) == 4 + 2  # conv weight, bias; BN weight, bias; running mean, var (not the int counter)
    with nc.no_grad():
        for t in lookahead.weights:
            t.add_(1.5)
    lookahead.update(0.25)
    for t, s, first in zip(lookahead.weights, lookahead.slow, start):
        np.testing.assert_allclose(s.numpy(), 0.25 * first + 0.75 * (first + 1.5), rtol=1e-15)
        np.testing.assert_array_equal(t.detach().numpy(), s.numpy())
    assert model[0].weight.requires_grad
    lookahead.update(1.0)
    for t, s in zip(lookahead.weights, lookahead.slow):
        np.testing.assert_array_equal(t.detach().numpy(), s.numpy())


def test_decay_schedule_and_bad_decay():
    assert lookahead_decay(0, 100) == 0 and lookahead_decay(100, 100) == pytest.approx(0.95 ** 5)
    assert lookahead_decay(50, 100) == pytest.approx(0.95 ** 5 / 8)
    with pytest.raises(ValueError, match=r"decay must be in \[0, 1\], got 1.5"):
        Lookahead(_model()).update(1.5)


def test_state_dict_round_trip():
    model = _model()
    lookahead = Lookahead(model)
    state = lookahead.state_dict()
    with nc.no_grad():
        lookahead.slow[0].add_(1.0)
    lookahead.load_state_dict(state)
    np.testing.assert_array_equal(lookahead.slow[0].numpy(), model[0].weight.detach().numpy())
