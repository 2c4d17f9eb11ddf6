import numpy as np
import pytest

from epl_sysbio.simulate import Status
from epl_sysbio.simulate.numerics import finite_difference_jacobian, range_and_null_space
from epl_sysbio.simulate.stability import classify_eigenvalues


def test_range_and_null_space_of_a_conserved_cycle():
    # A + B <-> C, C -> D, D -> A + B: conservation laws A - B and A + C + D (2 of them)
    n_mat = np.array([[-1, 0, 1], [-1, 0, 1], [1, -1, 0], [0, 1, -1]], dtype=float)
    rng, null = range_and_null_space(n_mat)
    assert rng.shape == (4, 2) and null.shape == (4, 2)
    np.testing.assert_allclose(null.T @ n_mat, 0, atol=1e-12)
    np.testing.assert_allclose(np.hstack([rng, null]).T @ np.hstack([rng, null]), np.eye(4), atol=1e-12)
    # both known laws lie in the null space
    for law in ([1, -1, 0, 0], [1, 0, 1, 1]):
        law = np.array(law, float)
        assert np.linalg.norm(law - null @ (null.T @ law)) < 1e-12


@pytest.mark.parametrize(
    "eig, expected",
    [
        (np.array([-1.0, -2.0 + 3j, -2.0 - 3j]), Status.STABLE),
        (np.array([-1.0, 1e-3 + 0.1j, 1e-3 - 0.1j]), Status.UNSTABLE),
        (np.array([-1.0, 1e-12]), Status.MARGINAL),
        (np.zeros(0), Status.STABLE),
    ],
)
def test_classify_eigenvalues(eig, expected):
    assert classify_eigenvalues(eig, 1e-9) is expected


@pytest.mark.parametrize("central", [False, True])
def test_finite_difference_jacobian_of_a_known_map(central):
    state = {"x": np.array([1e-21, 3e-21])}  # femtolitre-scale amounts: steps must be relative
    a = np.array([[-2.0, 1.0], [0.5, -3.0]])

    def rates():
        x = state["x"]
        return a @ x + np.array([x[0] ** 2 / 2e-21, 0.0])

    def set_state(x):
        state["x"] = x.copy()

    x0 = state["x"].copy()
    jac = finite_difference_jacobian(x0, rates(), set_state, rates, central=central)
    exact = a + np.array([[x0[0] / 1e-21, 0], [0, 0]])  # d/dx0 of x0^2/2e-21 = 1 here
    np.testing.assert_allclose(jac, exact, rtol=1e-5, atol=1e-6 * np.abs(exact).max())
    np.testing.assert_array_equal(state["x"], x0)
