"""Images copied in at import: by content, checked, never from outside the imported file's folder."""

import os

import pytest

from annotation.core.model import InvalidValue
from annotation.importing.images import from_data_uri, take
from tests.utils.chat_records import data_uri, png


def test_the_same_bytes_get_the_same_name_with_their_extension(tmp_path):
    image = png()
    (tmp_path / "a.PNG").write_bytes(image)
    found = {}
    by_path = take("a.PNG", base_dir=tmp_path, where="image", found=found)
    by_uri = take(data_uri(image), base_dir=None, where="image", found=found)
    assert by_path.endswith(".PNG") and by_uri.endswith(".png")
    assert by_path[:64] == by_uri[:64] and set(found) == {by_path, by_uri}


def test_a_remote_url_is_kept_and_never_read():
    found = {}
    assert take("https://example.com/a.png", base_dir=None, where="image", found=found) == "https://example.com/a.png"
    assert found == {}


@pytest.mark.parametrize("ref", ["../secret.png", "/etc/passwd", "sub/../../secret.png"])
def test_paths_that_leave_the_folder_are_refused(tmp_path, ref):
    (tmp_path / "secret.png").write_bytes(png())
    inner = tmp_path / "in"
    inner.mkdir()
    with pytest.raises(InvalidValue, match="leaves the folder"):
        take(ref, base_dir=inner, where="image", found={})


def test_a_link_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "secret.png").write_bytes(png())
    inner = tmp_path / "in"
    inner.mkdir()
    os.symlink(tmp_path / "secret.png", inner / "link.png")
    with pytest.raises(InvalidValue, match="through a link"):
        take("link.png", base_dir=inner, where="image", found={})


def test_an_upload_has_no_folder_to_read_paths_from():
    with pytest.raises(InvalidValue, match="no folder"):
        take("a.png", base_dir=None, where="image", found={})


def test_what_is_not_an_image_is_refused(tmp_path):
    (tmp_path / "x.png").write_bytes(b"<svg onload=alert(1)>")
    with pytest.raises(InvalidValue, match="not a PNG, JPEG, GIF or WebP"):
        take("x.png", base_dir=tmp_path, where="image", found={})
    with pytest.raises(InvalidValue, match="base64"):
        from_data_uri("data:image/png,rawbytes", "image")
    with pytest.raises(InvalidValue, match="not valid base64"):
        from_data_uri("data:image/png;base64,@@@@", "image")


def test_the_limit_is_checked_before_a_big_data_uri_is_decoded(monkeypatch):
    monkeypatch.setenv("REDLINE_IMAGE_MAX_MB", "1")
    huge = "data:image/png;base64," + "A" * (2 * 1024 * 1024)
    with pytest.raises(InvalidValue, match="at most 1 MB"):
        from_data_uri(huge, "image")


def test_a_nul_in_a_path_and_a_foreign_extension_are_handled(tmp_path):
    with pytest.raises(InvalidValue, match="NUL"):
        take("a\x00.png", base_dir=tmp_path, where="image", found={})
    # A GIF named .html is stored as .gif: no export ever writes a page from an image.
    (tmp_path / "pic.html").write_bytes(b"GIF89a/*<script>alert(1)</script>*/")
    name = take("pic.html", base_dir=tmp_path, where="image", found={})
    assert name.endswith(".gif")
    (tmp_path / "photo.JPEG").write_bytes(b"\xff\xd8\xff" + b"\0" * 20)
    assert take("photo.JPEG", base_dir=tmp_path, where="image", found={}).endswith(".JPEG")
