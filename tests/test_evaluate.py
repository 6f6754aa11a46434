"""Evaluation metrics on tiny arrays with known answers, and `skyseg eval` on a tiny data tree."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from skyseg_core.cli import main
from skyseg_core.errors import InputError, MatteError
from skyseg_core.evaluate import (
    boundary,
    boundary_f_score,
    confusion,
    evaluate_predictions,
    false_positive_rate,
    image_metrics,
    iou,
    matte_mae,
    summarize,
)

S, N, X = 255, 0, 128  # sky, not sky, ignore


def m(rows):
    return np.array(rows, dtype=np.float32)


def t(rows):
    return np.array(rows, dtype=np.uint8)


def test_confusion_excludes_ignored_pixels_and_thresholds_at_half():
    pred = m([[0.9, 0.5, 0.49], [0.1, 1.0, 0.0]])
    truth = t([[S, N, S], [N, X, X]])
    # (0,0) tp; (0,1) 0.5 counts as sky -> fp; (0,2) fn; (1,0) tn; (1,1),(1,2) ignored.
    assert confusion(pred, truth) == (1, 1, 1, 1)
    assert iou(pred, truth) == pytest.approx(1 / 3)
    assert confusion(pred, truth, threshold=0.95) == (0, 0, 2, 2)


def test_iou_is_nan_without_sky_anywhere_and_one_when_perfect():
    assert math.isnan(iou(m([[0.0, 0.2]]), t([[N, N]])))
    assert iou(m([[1.0, 0.0]]), t([[S, N]])) == 1.0
    assert iou(m([[1.0, 0.0]]), np.array([[True, False]])) == 1.0


def test_false_positive_rate():
    assert false_positive_rate(m([[1, 0, 0, 1]]), t([[N, N, N, X]])) == pytest.approx(1 / 3)
    assert math.isnan(false_positive_rate(m([[1.0]]), t([[S]])))


def test_matte_mae_with_and_without_valid_mask():
    pred = m([[0.0, 0.5], [1.0, 1.0]])
    truth = m([[0.0, 0.25], [0.5, 1.0]])
    assert matte_mae(pred, truth) == pytest.approx((0 + 0.25 + 0.5 + 0) / 4)
    valid = np.array([[True, True], [False, True]])
    assert matte_mae(pred, truth, valid) == pytest.approx(0.25 / 3)


def test_boundary_marks_both_sides_of_an_edge_but_not_the_frame_or_ignore():
    mask = np.zeros((4, 6), bool)
    mask[:2] = True
    edge = boundary(mask)
    assert edge[1].all() and edge[2].all() and not edge[0].any() and not edge[3].any()
    valid = np.ones((4, 6), bool)
    valid[:, :2] = False  # pixels next to ignored ones are not boundaries
    assert not boundary(mask, valid)[:, :3].any() and boundary(mask, valid)[1:3, 3:].all()
    assert not boundary(np.ones((3, 3), bool)).any()


def test_boundary_f_score_tolerance():
    truth = np.zeros((20, 20), np.uint8)
    truth[:10] = S
    exact = (truth == S).astype(np.float32)
    shifted = np.zeros((20, 20), np.float32)
    shifted[:13] = 1.0  # the predicted horizon 3 rows too low
    assert boundary_f_score(exact, truth) == 1.0
    assert boundary_f_score(shifted, truth, tolerance=1) == 0.0
    assert boundary_f_score(shifted, truth, tolerance=4) == 1.0
    # half of the predicted boundary within 1 px of the truth's: partly right
    half = exact.copy()
    half[:13, 10:] = 1.0
    assert 0.0 < boundary_f_score(half, truth, tolerance=1) < 1.0
    # neither has a boundary: perfect; only one has: zero
    assert boundary_f_score(np.zeros((5, 5), np.float32), np.zeros((5, 5), np.uint8)) == 1.0
    assert boundary_f_score(np.zeros((20, 20), np.float32), truth) == 0.0


def test_boundary_f_score_does_not_judge_edges_next_to_an_ignored_band():
    truth = np.zeros((30, 20), np.uint8)
    truth[:10] = S
    truth[10] = X  # a void band between sky and ground, as in CamVid and Stanford
    shifted = np.zeros((30, 20), np.float32)
    shifted[:13] = 1.0  # predicted edge 2-3 px below the band: cannot be judged
    assert boundary_f_score(shifted, truth, tolerance=3) == 1.0
    far = np.zeros((30, 20), np.float32)
    far[:20] = 1.0  # far from the band: a wrong boundary
    assert boundary_f_score(far, truth, tolerance=3) == 0.0
    # a truth edge away from the band still has to be found
    truth[:, 15:] = N
    truth[10, 15:] = N
    assert boundary_f_score(shifted, truth, tolerance=3) < 0.5
    assert boundary_f_score((truth == S).astype(np.float32), truth, tolerance=3) == 1.0


def test_metrics_reject_a_prediction_of_the_wrong_shape_or_type():
    with pytest.raises(MatteError):
        iou(np.zeros((3, 3), np.float32), np.zeros((3, 4), np.uint8))
    with pytest.raises(MatteError):
        iou(np.zeros((3, 3), np.float64), np.zeros((3, 3), np.uint8))
    with pytest.raises(InputError):
        iou(np.zeros((3, 3), np.float32), np.zeros((3, 3), np.int32))


def test_summaries_pool_pixels_and_separate_sky_free_images():
    a_pred, a_truth = m([[1, 1, 0, 0]]), t([[S, S, S, S]])  # IoU 2/4
    b_pred, b_truth = m([[1] * 8]), t([[S] * 8])  # IoU 8/8
    c_pred, c_truth = m([[1, 0, 0, 0]]), t([[N, N, N, N]])  # sky-free, 1 of 4 false positive
    d_pred, d_truth = m([[0, 0]]), t([[N, N]])  # sky-free, clean
    soft = m([[0.5, 0.5, 0.5, 0.5]])
    result = evaluate_predictions(
        [
            (a_pred, a_truth, soft),
            (b_pred, b_truth, None),
            (c_pred, c_truth, None),
            (d_pred, d_truth, None),
        ],
        datasets=["one", "one", "two", "two"],
    )
    overall = result["overall"]
    assert overall.micro_iou == pytest.approx(
        10 / (12 + 1)
    )  # the fp of the sky-free image counts too
    assert overall.mean_iou == pytest.approx((0.5 + 1.0) / 2)
    assert overall.fp_rate == pytest.approx(1 / 6)
    assert overall.fp_rate_mean == pytest.approx((0.25 + 0.0) / 2)
    assert overall.matte_mae == pytest.approx(0.5) and overall.mattes == 1
    assert (overall.images, overall.images_with_sky, overall.images_without_sky) == (4, 2, 2)
    assert result["one"].micro_iou == pytest.approx(10 / 12)
    assert math.isnan(result["one"].fp_rate) and result["one"].as_dict()["fp_rate"] is None
    assert result["two"].micro_iou == 0.0
    assert list(result) == ["one", "two", "overall"]


def test_image_metrics_of_a_perfect_prediction():
    truth = np.zeros((16, 16), np.uint8)
    truth[:6] = S
    truth[6:8, :4] = X
    pred = (truth == S).astype(np.float32)
    record = image_metrics(pred, truth, pred)
    assert record.iou == 1.0 and record.mae == 0.0 and record.boundary_f == 1.0 and record.has_sky
    assert summarize([record])["overall"].micro_iou == 1.0


# --------------------------------------------------------------------------------------------
# CLI


def _write_dataset(root, name, n, with_mattes=False):
    rng = np.random.default_rng(len(name))
    folder = root / name
    for sub in ("images", "masks") + (("mattes",) if with_mattes else ()):
        (folder / sub).mkdir(parents=True)
    for i in range(n):
        h, w = 40, 56
        horizon = 10 + 4 * i if i < n - 1 else 0  # the last image has no sky
        image = np.empty((h, w, 3), np.uint8)
        image[:horizon] = (90, 150, 235)
        image[horizon:] = (40, 70, 30)
        image = np.clip(image + rng.integers(-4, 5, image.shape), 0, 255).astype(np.uint8)
        mask = np.zeros((h, w), np.uint8)
        mask[:horizon] = 255
        mask[horizon : horizon + 1] = 128
        Image.fromarray(image).save(folder / "images" / f"img{i}.jpg", quality=95)
        Image.fromarray(mask).save(folder / "masks" / f"img{i}.png")
        if with_mattes:
            Image.fromarray(mask).save(folder / "mattes" / f"img{i}.png")


@pytest.fixture
def tiny_data(tmp_path):
    data = tmp_path / "data"
    _write_dataset(data, "alpha", 3, with_mattes=True)
    _write_dataset(data, "beta", 2)
    return data


def test_cli_eval_json_and_report(tiny_data, tmp_path, capsys):
    report = tmp_path / "report"
    code = main(
        [
            "eval",
            "--data",
            str(tiny_data),
            "--method",
            "color",
            "--split",
            "all",
            "--json",
            "--report",
            str(report),
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    payload = json.loads(out)
    summaries = payload["summaries"]
    assert set(summaries) == {"alpha", "beta", "overall"}
    assert summaries["overall"]["images"] == 5
    assert summaries["overall"]["images_without_sky"] == 2
    assert summaries["alpha"]["mattes"] == 3 and summaries["beta"]["matte_mae"] is None
    # the same numbers as evaluating the method's mattes directly
    from skyseg_core import load_image, load_matte, segment

    items, names = [], []
    for name, n in (("alpha", 3), ("beta", 2)):
        for i in range(n):
            pred = segment(load_image(tiny_data / name / "images" / f"img{i}.jpg"), method="color")
            truth = np.asarray(Image.open(tiny_data / name / "masks" / f"img{i}.png"))
            matte = (
                load_matte(tiny_data / name / "mattes" / f"img{i}.png") if name == "alpha" else None
            )
            items.append((pred, truth, matte))
            names.append(name)
    direct = evaluate_predictions(items, datasets=names)
    for key in ("overall", "alpha", "beta"):
        for metric in ("micro_iou", "mean_iou", "fp_rate", "boundary_f"):
            assert summaries[key][metric] == pytest.approx(
                getattr(direct[key], metric), nan_ok=True
            ), (key, metric)
    assert (
        summaries["overall"]["micro_iou"] > 0.3
    )  # blue sky over dark ground: found at least partly
    text = (report / "report.md").read_text()
    assert "| **overall** |" in text and "iou_histogram.png" in text
    assert (report / "iou_histogram.png").stat().st_size > 1000
    worst = sorted(report.glob("worst_*.jpg"))
    assert len(worst) == 5 and all(f"]({p.name})" in text for p in worst)
    # an existing report is kept unless --overwrite
    argv = [
        "eval",
        "--data",
        str(tiny_data),
        "--method",
        "color",
        "--split",
        "all",
        "--report",
        str(report),
        "--quiet",
    ]
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (report / "report.md").read_text() == text
    assert main([*argv, "--overwrite"]) == 0


def test_cli_eval_limit_split_and_no_refine(tiny_data, capsys):
    assert (
        main(
            [
                "eval",
                "--data",
                str(tiny_data),
                "--method",
                "color",
                "--split",
                "all",
                "--limit",
                "2",
                "--no-refine",
                "--json",
                "--quiet",
            ]
        )
        == 0
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["summaries"]["overall"]["images"] == 2 and payload["refine"] is False


def test_cli_eval_markdown_table_by_default(tiny_data, capsys):
    assert (
        main(
            [
                "eval",
                "--data",
                str(tiny_data / "beta"),
                "--method",
                "color",
                "--split",
                "all",
                "--quiet",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("| dataset |") and "| beta |" in out and "| **overall** |" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "--data", "{missing}", "--method", "color"],
        ["eval", "--data", "{data}", "--method", "no-such-method"],
        ["eval", "--data", "{data}", "--method", "color", "--limit", "0"],
        ["eval", "--data", "{empty}", "--method", "color"],
        ["eval", "--method", "color"],
    ],
)
def test_cli_eval_bad_usage_exits_2_with_one_line(argv, tiny_data, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [a.format(missing=tmp_path / "nope", data=tiny_data, empty=empty) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error" in captured.err.strip().splitlines()[-1]


def test_cli_eval_reports_a_broken_image_and_measures_the_rest(tiny_data, capsys):
    (tiny_data / "alpha" / "images" / "img1.jpg").write_bytes(b"not a jpeg")
    code = main(
        [
            "eval",
            "--data",
            str(tiny_data),
            "--method",
            "color",
            "--split",
            "all",
            "--json",
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    errors = captured.err.strip().splitlines()
    assert len(errors) == 1 and "img1.jpg" in errors[0]
    payload = json.loads(captured.out)
    assert payload["failed"] == 1 and payload["summaries"]["overall"]["images"] == 4


def test_confidence_figures_pool_pixels_over_images():
    """sky-free p99 and sky median come from the pixels of all images of a group together."""
    from skyseg_core.evaluate import image_metrics, summarize_group

    room = np.zeros((10, 10), np.uint8)  # sky-free truth
    hedging = np.zeros((10, 10), np.float32)
    hedging[0, :5] = 0.3  # 5 % of the room's pixels half-seen as sky
    clear = np.zeros((10, 10), np.float32)
    outdoor = np.full((10, 10), 255, np.uint8)
    outdoor[5:] = 0
    pred = np.zeros((10, 10), np.float32)
    pred[:5] = np.linspace(0.6, 1.0, 50, dtype=np.float32).reshape(5, 10)
    records = [
        image_metrics(hedging, room),
        image_metrics(clear, room),
        image_metrics(pred, outdoor),
    ]
    summary = summarize_group(records)
    # 5 of 200 sky-free pixels are 0.3: 2.5 % > 1 %, so the 99th percentile is 0.3
    assert summary.skyfree_p99 == pytest.approx(0.3, abs=1e-3)
    assert summarize_group(records[1:]).skyfree_p99 == pytest.approx(0.0, abs=1e-3)
    assert summary.sky_median == pytest.approx(0.8, abs=0.01)
    assert summarize_group(records[:2]).as_dict()["sky_median"] is None  # no sky pixels: no figure


def test_tight_boundary_f_counts_only_edges_within_one_pixel():
    truth = np.zeros((40, 40), np.uint8)
    truth[:20] = 255
    three_off = np.zeros((40, 40), np.float32)
    three_off[:23] = 1.0
    record = image_metrics(three_off, truth)
    assert record.boundary_f == pytest.approx(1.0), "three rows off is within 3 px"
    assert record.boundary_f_tight == pytest.approx(0.0), "but not within 1 px"
    one_off = np.zeros((40, 40), np.float32)
    one_off[:21] = 1.0
    assert image_metrics(one_off, truth).boundary_f_tight == pytest.approx(1.0)


def test_canopy_pixels_labelled_not_sky_are_left_out(tmp_path):
    from skyseg_core.datasets import find_samples
    from skyseg_core.evaluate import load_truth

    _write_dataset(tmp_path / "data", "trees", 1)
    mask = np.asarray(Image.open(tmp_path / "data/trees/masks/img0.png"))
    canopy = np.zeros_like(mask)
    canopy[:, :10] = 255
    (tmp_path / "data/trees/canopy").mkdir()
    Image.fromarray(canopy).save(tmp_path / "data/trees/canopy/img0.png")
    (sample,) = find_samples(tmp_path / "data")
    left_out, _ = load_truth(sample)
    kept, _ = load_truth(sample, canopy=False)
    assert np.array_equal(kept, mask)
    trees = canopy > 0
    assert (left_out[trees & (mask == 0)] == 128).all()
    assert np.array_equal(left_out[trees & (mask == 255)], mask[trees & (mask == 255)])
    assert np.array_equal(left_out[~trees], mask[~trees])


def test_report_has_a_detail_sheet_of_the_worst_edges_at_full_size(tiny_data, tmp_path):
    from skyseg_core.evaluate import DETAIL_SHEET, worst_edge_region

    truth = np.zeros((120, 160), np.uint8)
    truth[:60] = 255
    pred = (truth > 0).astype(np.float32)
    pred[50:70, 100:130] = 0.5  # one wrong place on the horizon
    error, x, y, side = worst_edge_region(pred, truth, None, window=32)
    assert side == 32 and error > 0
    assert x <= 100 and x + side >= 130 - 8 and y <= 60 <= y + side, "the window covers the error"
    assert worst_edge_region(np.zeros((8, 8), np.float32), np.zeros((8, 8), np.uint8), None) is None

    report = tmp_path / "report"
    assert (
        main(
            [
                "eval",
                "--data",
                str(tiny_data),
                "--method",
                "color",
                "--split",
                "all",
                "--report",
                str(report),
                "--quiet",
            ]
        )
        == 0
    )
    sheet = np.asarray(Image.open(report / DETAIL_SHEET))
    assert sheet.shape[1] == 3 * 40 + 4 * 4, (
        "three pictures per row at 100 % (photos are 40 px high)"
    )
    assert "Edge detail at 100 %" in (report / "report.md").read_text()
