import pytest

from clients.cli import build_parser, config_from_args
from clients.config import ConfigError, parse_camera_arg


def args(*argv):
    return config_from_args(build_parser().parse_args(list(argv)))


def test_cameras_from_the_command_line_with_shared_options():
    cfg = args("--hub", "http://h:9000", "--camera", "front=0", "--camera", "side=clip.mp4",
               "--fps", "15", "--no-loop", "--transport", "ws")
    assert cfg.hub_url == "http://h:9000" and cfg.transport == "ws"
    assert [(c.camera_id, c.source, c.fps, c.loop) for c in cfg.cameras] == [
        ("front", "0", 15.0, False), ("side", "clip.mp4", 15.0, False)]


def test_yaml_file_with_relative_sources(tmp_path):
    (tmp_path / "cams.yaml").write_text(
        "hub_url: http://hub:8000\ncameras:\n  - {camera_id: a, source: 0}\n"
        "  - {camera_id: b, source: clips/b.mp4, jpeg_quality: 60}\n")
    cfg = args("--config", str(tmp_path / "cams.yaml"), "--camera", "c=rtsp://cam/live")
    assert [c.source for c in cfg.cameras] == ["0", str(tmp_path / "clips/b.mp4"), "rtsp://cam/live"]
    assert cfg.cameras[1].jpeg_quality == 60 and cfg.hub_url == "http://hub:8000"


@pytest.mark.parametrize("argv, needle", [
    ((), "no camera"),
    (("--camera", "front"), "ID=SOURCE"),
    (("--camera", "bad id=0"), "camera_id"),
    (("--camera", "a=0", "--camera", "a=1"), "unique"),
    (("--camera", "a=0", "--jpeg-quality", "0"), "jpeg_quality"),
    (("--camera", "a=0", "--hub", "ftp://x"), "hub_url"),
])
def test_bad_configs_name_the_problem(argv, needle):
    with pytest.raises(ConfigError, match=needle):
        args(*argv)


def test_bad_yaml_is_a_config_error(tmp_path):
    (tmp_path / "bad.yaml").write_text("cameras: {not: a list}\n")
    with pytest.raises(ConfigError, match="cameras"):
        args("--config", str(tmp_path / "bad.yaml"))


def test_parse_camera_arg_keeps_url_equals_signs():
    assert parse_camera_arg("cam=http://x/stream?a=1") == ("cam", "http://x/stream?a=1")
