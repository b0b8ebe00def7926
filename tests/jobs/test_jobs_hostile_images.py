"""Damaged and crafted images (issue 18): a job image is done only if its data really holds a
picture of the size its header states; headers too complex to walk fail at once."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.image_headers import MAX_GIF_BLOCKS, MAX_JPEG_FILL, MAX_JPEG_SEGMENTS, MAX_PNG_CHUNKS
from service.jobs.imaging import DecodeError, measure
from tests import hostile_images as hostile
from tests.jobs.conftest import ImageServer, submit, visit, wait_settled

# Each damaged file, and the reason its image fails with.
REASONS = {
    "png-1x1-claiming-4000x3000": "the image data does not cover the 4000x3000 picture its header "
    "declares (the PNG's pixel data inflates to 4 of the 36003000 bytes it needs)",
    "png-cut-iend-in-text": "truncated image data (the PNG ends inside its b'IDAT' chunk)",
    "half-jpeg-then-whole": "corrupt image data (another JPEG starts inside this one's image data)",
    "webp-40-valid-bytes-then-random": "corrupt image data (failed to read next frame)",
    "jpeg-frame-7000x7000-over-640x480": "the image data does not cover the 7000x7000 picture its "
    "header declares (the JPEG's coded data ends early)",
    "jpeg-625-bytes-no-scan-data": "the image data does not cover the 640x480 picture its header "
    "declares (the JPEG's coded data ends early)",
    "jpeg-cut-with-end-marker": "the image data does not cover the 640x480 picture its header "
    "declares (the JPEG's coded data ends early)",
}


@pytest.mark.parametrize("name", list(hostile.DAMAGED))
def test_each_damaged_file_fails_with_its_reason(name: str) -> None:
    with pytest.raises(DecodeError) as caught:
        measure(hostile.DAMAGED[name](), 50_000_000)
    assert str(caught.value) == REASONS[name]


def test_the_no_scan_jpeg_is_the_625_byte_file_of_the_issue() -> None:
    assert len(hostile.jpeg_without_scan_data()) == 625


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"progressive": True},
        {"subsampling": 0},
        {"optimize": True},
        {"restart_marker_blocks": 1},
    ],
    ids=["baseline", "progressive", "4:4:4", "optimized-tables", "restart-markers"],
)
@pytest.mark.parametrize("size", [(640, 480), (17, 9), (1, 1)])
def test_whole_jpegs_of_every_kind_pass(options: dict, size: tuple[int, int]) -> None:
    measured = measure(hostile.photo(*size, **options), 50_000_000)
    assert (measured.width, measured.height) == size


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
@pytest.mark.parametrize("size", [(640, 480), (17, 9), (1, 1)])
def test_whole_files_of_the_other_formats_pass(fmt: str, size: tuple[int, int]) -> None:
    measured = measure(hostile.photo(*size, fmt), 50_000_000)
    assert (measured.width, measured.height) == size


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGBA", "I;16"])
@pytest.mark.parametrize("interlace", [0, 1])
def test_pngs_of_every_depth_and_interlacing_pass(mode: str, interlace: int) -> None:
    import io

    from PIL import Image

    picture = Image.linear_gradient("L").resize((33, 21))
    picture = picture.convert("I").convert("I;16") if mode == "I;16" else picture.convert(mode)
    out = io.BytesIO()
    picture.save(out, "PNG", interlace=interlace)
    assert measure(out.getvalue(), 10_000).width == 33


def test_a_png_chunk_with_a_bad_crc_fails() -> None:
    data = bytearray(hostile.photo(64, 48, "PNG"))
    data[-20] ^= 0xFF  # inside the last IDAT chunk
    with pytest.raises(DecodeError, match="fails its CRC"):
        measure(bytes(data), 10_000)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: hostile.jpeg_many_segments(MAX_JPEG_SEGMENTS + 1), "JPEG segments"),
        (lambda: hostile.jpeg_fill_bytes(MAX_JPEG_FILL + 1), "JPEG fill bytes"),
        (lambda: hostile.png_many_chunks(MAX_PNG_CHUNKS + 1), "PNG chunks"),
        (lambda: hostile.gif_many_blocks(MAX_GIF_BLOCKS + 1), "GIF blocks"),
    ],
    ids=["jpeg-segments", "jpeg-fill", "png-chunks", "gif-blocks"],
)
def test_headers_past_the_caps_fail_at_once(make, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DecodeError, match=f"^header too complex \\(more than .* {reason}"):
        measure(make(), 50_000_000)


@pytest.mark.parametrize(
    "make",
    [
        lambda: hostile.jpeg_many_segments(MAX_JPEG_SEGMENTS - 10),
        lambda: hostile.jpeg_fill_bytes(MAX_JPEG_FILL),
        lambda: hostile.png_many_chunks(1_000),
        lambda: hostile.gif_many_blocks(MAX_GIF_BLOCKS - 2),
    ],
    ids=["jpeg-segments", "jpeg-fill", "png-chunks", "gif-blocks"],
)
def test_headers_under_the_caps_still_pass(make) -> None:  # type: ignore[no-untyped-def]
    measure(make(), 50_000_000)


def test_damaged_files_fail_their_images_and_add_no_perimeter(
    worker_client: TestClient[Litestar], image_server: ImageServer
) -> None:
    urls = {name: image_server.serve_bytes(name, make()) for name, make in hostile.DAMAGED.items()}
    whole = image_server.url("/img/30x20.jpg")
    job_id = submit(worker_client, visit("RP00001", whole, *urls.values()))
    status = wait_settled(worker_client, job_id)
    assert status["status"] == "failed"
    report = worker_client.get(f"/api/jobs/{job_id}").json()
    images = report["visits"][0]["images"]
    assert [image["status"] for image in images] == ["done"] + ["failed"] * len(urls)
    for image, (name, url) in zip(images[1:], urls.items(), strict=True):
        assert image["perimeter"] is None
        assert image["error"] == f"image could not be decoded: {REASONS[name]} ({url})"
    [store] = worker_client.get("/api/visits?storeid=RP00001").json()["results"]
    assert store["data"] == [{"date": "2026-11-21", "perimeter": 2 * (30 + 20)}]
