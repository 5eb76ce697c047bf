"""Forward, gradient, stride and no-mutation checks of every op of tests/op_specs.py and tests/op_specs_nn.py
through the factory, on each device: cpu here; cuda here on a GPU, and under the CUDA simulator (tiny shapes, a few
examples per op; of the nn specs those of SIMULATED_NN) in the subprocess of tests/test_cuda_sim.py."""
import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from op_factory import check_op
from op_specs import SPECS
from op_specs_nn import SIMULATED_NN, SPECS_NN

import numbaconv as nc
import numbaconv.nn.functional as F

ALL_SPECS = SPECS + SPECS_NN
IDS = [s.name for s in ALL_SPECS]


def _cuda_specs():
    """Every spec on a GPU; under the simulator those of tests/op_specs.py and the nn specs of SIMULATED_NN."""
    from numba import config

    if not config.ENABLE_CUDASIM:
        return ALL_SPECS
    return SPECS + [s for s in SPECS_NN if s.name in SIMULATED_NN]


CUDA_SPECS = _cuda_specs()


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
@given(data=st.data())
def test_op_cpu(spec, data):
    check_op(spec, data, "cpu")


def _cuda_settings():
    """The simulator runs kernels in Python: there a few examples per op, and a failure is reported as found, not
    shrunk (a shrink would rerun it dozens of times); on a GPU the profile's settings."""
    from numba import config

    if not config.ENABLE_CUDASIM:
        return settings()
    return settings(max_examples=3, phases=[Phase.explicit, Phase.reuse, Phase.generate])


@pytest.mark.skipif(not nc.cuda.is_available(), reason="no CUDA GPU; tests/test_cuda_sim.py runs these under the "
                    "CUDA simulator")
@pytest.mark.parametrize("spec", CUDA_SPECS, ids=[s.name for s in CUDA_SPECS])
@_cuda_settings()
@given(data=st.data())
def test_op_cuda(spec, data):
    check_op(spec, data, "cuda")


def test_gelu_of_a_0d_tensor_is_0d():
    x = nc.tensor(np.array(0.5), requires_grad=True)
    y = F.gelu(x)
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == ()
