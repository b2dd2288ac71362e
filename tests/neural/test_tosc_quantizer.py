"""Binary quantizer: eq. (18) forward, eqs. (19)-(20) backward."""

import pytest
import torch

from neural.quantizer import BinaryQuantizer


def test_forward_values_eq18():
    e = torch.tensor([0.0, 0.2, 0.5, 0.5000001, 0.7, 1.0])
    assert BinaryQuantizer()(e).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]


def test_backward_gradient_eq20():
    e = torch.tensor([-0.5, -1e-6, 0.0, 0.3, 0.5, 1.0, 1.0 + 1e-6, 2.0], requires_grad=True)
    w = torch.arange(1.0, 9.0)  # distinct upstream gradients
    (BinaryQuantizer()(e) * w).sum().backward()
    assert e.grad.tolist() == [0.0, 0.0, 3.0, 4.0, 5.0, 6.0, 0.0, 0.0]


def test_rejects_integer_input():
    with pytest.raises(TypeError, match="floating-point"):
        BinaryQuantizer()(torch.tensor([1, 0]))
