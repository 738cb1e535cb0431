"""bcrypt interop with PHP: hashes written here verify in PHP and the reverse."""

from __future__ import annotations

import subprocess

import pytest

from handlers.passwords import UnusableHash, hash_password, password_value, verify_password
from tests.support.services import php_binary

PLAIN = "correct horse battery staple ü"


def php(code: str, *args: str) -> str:
    result = subprocess.run(
        [php_binary(), "-r", code, "--", *args], capture_output=True, text=True, check=True
    )
    return result.stdout


def test_python_hash_has_the_2y_prefix_and_cost_12() -> None:
    hashed = hash_password(PLAIN)
    assert hashed.startswith("$2y$12$") and len(hashed) == 60


def test_php_password_verify_accepts_a_python_hash() -> None:
    hashed = hash_password(PLAIN)
    code = (
        "echo json_encode([password_verify($argv[1], $argv[2]),"
        ' password_get_info($argv[2])["algoName"]]);'
    )
    assert php(code, PLAIN, hashed) == '[true,"bcrypt"]'
    assert php(code, "wrong", hashed) == '[false,"bcrypt"]'


def test_python_verifies_a_php_hash() -> None:
    hashed = php("echo password_hash($argv[1], PASSWORD_BCRYPT, ['cost' => 12]);", PLAIN)
    assert hashed.startswith("$2y$12$")
    assert verify_password(PLAIN, hashed)
    assert not verify_password("wrong", hashed)


def test_an_acceptable_bcrypt_hash_is_stored_unchanged() -> None:
    hashed = hash_password("whatever1")
    assert password_value(hashed) == hashed


def test_a_costlier_hash_is_refused() -> None:
    costly = "$2y$13$" + "a" * 53
    with pytest.raises(UnusableHash):
        password_value(costly)


def test_passwords_longer_than_72_bytes_hash_like_php() -> None:
    long = "x" * 100
    hashed = hash_password(long)
    assert php("echo json_encode(password_verify($argv[1], $argv[2]));", long, hashed) == "true"
