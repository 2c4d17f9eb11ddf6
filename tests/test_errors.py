import pytest

from epl_sysbio import EplSysbioError, UnknownIdError
from epl_sysbio.errors import format_ids, invalid_parameter_message


def test_unknown_id_is_key_error_with_plain_message():
    err = UnknownIdError("Unknown ids 'a', 'b'.")
    assert isinstance(err, KeyError) and isinstance(err, EplSysbioError)
    assert str(err) == "Unknown ids 'a', 'b'."
    with pytest.raises(KeyError):
        raise err


def test_format_ids_sorted_and_truncated():
    assert format_ids(["b", "a", "a"]) == "'a', 'b'"
    assert format_ids([str(i) for i in range(25)], limit=2).endswith("(23 more)")


def test_invalid_parameter_template():
    msg = invalid_parameter_message("X", "rtol", "a float in (0, inf)", -1.0)
    assert msg == "The 'rtol' parameter of X must be a float in (0, inf). Got -1.0 instead."
