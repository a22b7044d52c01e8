"""The episode catalog on SQLite and on a real PostgreSQL: index, query, report."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

from humanoid_teleop.annotation.schema import Annotation, Provenance
from humanoid_teleop.annotation.sidecar import append
from humanoid_teleop.catalog.db import CatalogDb
from humanoid_teleop.catalog.errors import CatalogError
from humanoid_teleop.catalog.index import index
from humanoid_teleop.catalog.query import Filters, query, report
from humanoid_teleop.cli.main import main
from humanoid_teleop.core.bag.metadata import PORT_DEVICE, PORT_KEY_PREFIX
from test.annotation.helpers import record_synthetic

CHROMIUM = Path("/usr/bin/chromium")
PROV = Provenance("annotator", "ann7", "test", "2026-12-03T10:00:00+00:00")
EPISODES = {
    # name: (start UTC, duration [s], outcome, info)
    "a": ("2026-12-01T09:00:00", 4.0, True,
          {"task": "Fold the towel", "operator": "17", "robot": "g1", "station": "s1",
           "device": "vr"}),
    "b": ("2026-12-01T10:00:00", 2.0, False,
          {"task": "fold the towel", "operator": "17", "robot": "g1", "station": "s2",
           "device": "vr"}),
    "c": ("2026-12-02T09:00:00", 3.0, True,
          {"task": "pick the cup", "operator": "4", "robot": "talos", "station": "s1",
           "device": "gamepad"}),
    "d": ("2026-12-03T09:00:00", 0.5, True,
          {"task": "pick the cup", "operator": "4", "robot": "g1", "station": "s1",
           "device": "exo"}),
}  # fmt: skip


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four EPISODES, recorded once for the module ("d" is too short for QC: 0.5 s)."""
    root = tmp_path_factory.mktemp("catalog_bags")
    for name, (start, duration, outcome, info) in EPISODES.items():
        record_synthetic(root, name, start=start, duration_s=duration, outcome=outcome, **info)
    append(root / "a", [Annotation("s1", "span", PROV, text="grasp towel", start_ns=0, end_ns=10)])
    return root


@pytest.fixture
def bags(recorded: Path, tmp_path: Path) -> Path:
    """A copy of the recorded episodes this test may change."""
    return Path(shutil.copytree(recorded, tmp_path / "bags"))


@pytest.fixture
def db(catalog_db: str, bags: Path) -> CatalogDb:
    """The catalog of ``bags`` on the backend of ``catalog_db``."""
    catalog = CatalogDb.open(catalog_db, create=True)
    index(catalog, [bags])
    yield catalog
    catalog.close()


def _names(rows: list[dict]) -> list[str]:
    return sorted(r["episode"] for r in rows)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(robot="g1"), ["a", "b", "d"]),
        (Filters(task="TOWEL"), ["a", "b"]),
        (Filters(operator="4"), ["c", "d"]),
        (Filters(station="s2"), ["b"]),
        (Filters(device="gamepad"), ["c"]),
        (Filters(outcome="failure"), ["b"]),
        (Filters(qc="reject"), ["d"]),
        (Filters(label="grasp towel"), ["a"]),
        (Filters(since="2026-12-02"), ["c", "d"]),
        (Filters(since="2026-12-01", until="2026-12-01"), ["a", "b"]),
        (Filters(robot="g1", task="towel", operator="17", since="2026-12-01"), ["a", "b"]),
    ],
)
def test_query_selects_by_each_field(db: CatalogDb, filters: Filters, expected: list[str]) -> None:
    """Each filter (and a combination) selects exactly the matching episodes."""
    assert _names(query(db, filters)) == expected


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(task="TOWEL"),
        Filters(task="the"),
        Filters(label="grasp towel"),
        Filters(robot="g1"),
        Filters(qc="pass", robot="g1"),
        Filters(operator="4", outcome="success"),
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_query_limit_is_the_head_of_the_full_answer(
    db: CatalogDb, filters: Filters, limit: int
) -> None:
    """With a limit a query returns exactly the first rows of its unlimited answer, newest first."""
    everything = query(db, filters)
    assert [r["start_time"] for r in everything] == sorted(
        (r["start_time"] for r in everything), reverse=True
    )
    assert query(db, filters, limit) == everything[:limit]


def test_postgresql_session_prices_index_probes_like_reads(catalog_db: str) -> None:
    """A PostgreSQL catalog session prices random reads at 1.1 and runs no parallel workers."""
    if not catalog_db.startswith("postgresql://"):
        pytest.skip("a PostgreSQL session setting; SQLite has no planner costs to set")
    with CatalogDb.open(catalog_db, create=True) as catalog:
        assert catalog.fetch("SHOW random_page_cost") == [("1.1",)]
        assert catalog.fetch("SHOW max_parallel_workers_per_gather") == [("0",)]


def test_index_run_leaves_planner_statistics(db: CatalogDb) -> None:
    """An index run that added episodes leaves fresh planner statistics for the episodes;
    on PostgreSQL it also vacuumed them (which marks settled pages all-visible, for
    index-only scans: bench/catalog.py shows what that does at 1M rows)."""
    if db.dialect == "sqlite":
        stats = db.fetch("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'episodes'")
    else:
        stats = db.fetch(
            "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname = 'episodes'"
            " AND last_analyze IS NOT NULL AND last_vacuum IS NOT NULL"
        )
    assert stats[0][0] >= 1
    # the catalog goes on working in transactions after the vacuum
    assert len(query(db, Filters())) == len(EPISODES)


def test_reindexing_unchanged_episodes_does_nothing(db: CatalogDb, bags: Path) -> None:
    """A second index run finds every episode unchanged."""
    done = index(db, [bags])
    assert (done.added, done.updated, done.unchanged) == ([], [], 4)


def test_annotation_edit_reindexes_only_that_episode(db: CatalogDb, bags: Path) -> None:
    """Appending to one sidecar updates that episode alone, and its new label is queryable."""
    append(bags / "c", [Annotation("q", "span", PROV, text="wipe", start_ns=0, end_ns=5)])
    done = index(db, [bags])
    assert done.updated == [str((bags / "c").resolve())]
    assert done.unchanged == 3
    assert _names(query(db, Filters(label="wipe"))) == ["c"]


def test_annotator_rejection_fails_qc(db: CatalogDb, bags: Path) -> None:
    """An annotator's quality: reject label makes the episode a QC rejection, not usable."""
    append(bags / "a", [Annotation("r", "label", PROV, key="quality", value="reject")])
    index(db, [bags])
    (row,) = [r for r in query(db, Filters(qc="reject")) if r["episode"] == "a"]
    assert row["qc_reasons"] == ["rejected by an annotator"]
    assert row["usable_s"] == 0.0


def test_deleted_episode_leaves_the_catalog(db: CatalogDb, bags: Path) -> None:
    """An episode gone from an indexed root is removed on the next index run."""
    shutil.rmtree(bags / "b")
    done = index(db, [bags])
    assert done.removed == [str((bags / "b").resolve())]
    assert _names(query(db, Filters())) == ["a", "c", "d"]


def test_report_counts_per_group(db: CatalogDb) -> None:
    """report --by day gives episodes, usable hours, success rate, rejections, mean length."""
    rows = report(db, ["day"], Filters())
    assert rows == [
        {"day": "2026-12-01", "episodes": 2, "usable_hours": round(6.0 / 3600, 4),
         "success_rate": 0.5, "qc_rejections": 0, "mean_length_s": 3.0},
        {"day": "2026-12-02", "episodes": 1, "usable_hours": round(3.0 / 3600, 4),
         "success_rate": 1.0, "qc_rejections": 0, "mean_length_s": 3.0},
        {"day": "2026-12-03", "episodes": 1, "usable_hours": 0.0,
         "success_rate": 1.0, "qc_rejections": 1, "mean_length_s": 0.5},
    ]  # fmt: skip


def test_report_groups_by_several_keys(db: CatalogDb) -> None:
    """report --by station,operator has one row per (station, operator) pair."""
    rows = report(db, ["station", "operator"], Filters())
    assert [(r["station"], r["operator"], r["episodes"]) for r in rows] == [
        ("s1", "17", 1), ("s1", "4", 2), ("s2", "17", 1),
    ]  # fmt: skip


def test_cli_query_prints_paths_for_export(bags: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`catalog index` then `catalog query` prints one episode path per line."""
    assert main(["catalog", "index", str(bags)]) == 0
    assert (bags / "catalog.sqlite").is_file()
    capsys.readouterr()
    assert main(["catalog", "query", "--db", str(bags / "catalog.sqlite"), "--task", "cup"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines == [str((bags / "d").resolve()), str((bags / "c").resolve())]


def test_cli_report_json(bags: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`catalog report --json` prints the rows as a JSON list."""
    assert main(["catalog", "index", str(bags)]) == 0
    capsys.readouterr()
    db = str(bags / "catalog.sqlite")
    assert main(["catalog", "report", "--db", db, "--by", "robot", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["robot"], r["episodes"]) for r in rows] == [("g1", 3), ("talos", 1)]


def test_html_report_draws_charts_in_chromium(bags: Path, tmp_path: Path) -> None:
    """The HTML report, opened in headless Chromium, renders its four bar charts offline."""
    if not CHROMIUM.is_file():
        pytest.skip("no /usr/bin/chromium: `make test` installs it (tools/setup_browser.sh)")
    assert main(["catalog", "index", str(bags)]) == 0
    page = tmp_path / "report.html"
    db = str(bags / "catalog.sqlite")
    assert main(["catalog", "report", "--db", db, "--by", "operator", "--html", str(page)]) == 0
    dom = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="
         + str(tmp_path / "profile"), "--virtual-time-budget=10000", "--dump-dom",
         page.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert 'class="main-svg"' in dom  # plotly drew its figure
    assert dom.count('class="point"') == 4 * 2  # a bar per operator in each of the 4 charts
    assert "<td>17</td>" in dom


def test_query_without_a_catalog_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Querying a missing catalog names it and exits 2, no traceback."""
    assert main(["catalog", "query", "--db", str(tmp_path / "none.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"error: {tmp_path / 'none.sqlite'}: no catalog here (run `catalog index ROOT` first)"
    ]


def test_bad_date_is_one_line(bags: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed --since names the option and the expected form."""
    assert main(["catalog", "index", str(bags)]) == 0
    db = str(bags / "catalog.sqlite")
    assert main(["catalog", "query", "--db", db, "--since", "yesterday"]) == 2
    assert "--since 'yesterday': a date as YYYY-MM-DD (UTC)" in capsys.readouterr().err


def test_broken_episode_is_reported_and_the_rest_indexed(
    bags: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A damaged sidecar fails its episode (named, exit 1); the others are indexed."""
    (bags / "c" / "annotations.jsonl").write_text("nonsense\n")
    assert main(["catalog", "index", str(bags)]) == 1
    out = capsys.readouterr().out
    assert "3 added" in out and "1 failed" in out
    assert f"not indexed: {(bags / 'c').resolve()}:" in out


def test_unreadable_recording_is_reported_and_the_rest_indexed(
    bags: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An MCAP file that cannot be read fails its episode (named, exit 1), not the run."""
    recording = sorted((bags / "b").glob("*.mcap"))[0]
    recording.unlink()
    recording.mkdir()  # listed in metadata.yaml, but opening it for its content hash fails
    assert main(["catalog", "index", str(bags)]) == 1
    out = capsys.readouterr().out
    assert "3 added" in out and "1 failed" in out
    episode = bags / "b"
    assert f"not indexed: {episode.resolve()}: {episode}: cannot read {recording.name}" in out


def _ported(bags: Path) -> Path:
    """A talos episode as `humanoid-teleop port` writes its metadata: device `port` and its
    provenance's source robot (g1)."""
    return record_synthetic(
        bags, "e", start="2026-12-04T09:00:00", duration_s=2.0, task="pick the cup",
        operator="17", robot="talos", station="s1", device=PORT_DEVICE,
        custom={PORT_KEY_PREFIX.removeprefix("custom.") + "source_robot": "g1"},
    )  # fmt: skip


def test_a_ported_episode_is_found_and_counted_by_its_source_robot(
    db: CatalogDb, bags: Path
) -> None:
    """--ported-from selects the episodes ported from that robot; report --by ported_from
    counts them apart from the episodes recorded on their own robot ("")."""
    _ported(bags)
    index(db, [bags])
    rows = query(db, Filters(ported_from="g1"))
    assert [(r["episode"], r["robot"], r["ported_from"]) for r in rows] == [("e", "talos", "g1")]
    assert _names(query(db, Filters(robot="talos"))) == ["c", "e"]
    counts = report(db, ["robot", "ported_from"], Filters())
    assert [(r["robot"], r["ported_from"], r["episodes"]) for r in counts] == [
        ("g1", "", 3), ("talos", "", 1), ("talos", "g1", 1),
    ]  # fmt: skip


def _schema_1(catalog_db: str, bags: Path) -> list[tuple[str, str]]:
    """Index ``bags`` (with the ported episode "e") and put the catalog back to schema 1
    (no ported_from column); returns every episode's (path, signature)."""
    _ported(bags)
    with CatalogDb.open(catalog_db, create=True) as catalog:
        index(catalog, [bags])
        with catalog.transaction():  # as schema 1 had it
            catalog.execute("DROP INDEX episodes_report")
            catalog.execute("DROP INDEX episodes_ported_from")
            catalog.execute("ALTER TABLE episodes DROP COLUMN ported_from")
            catalog.execute("UPDATE catalog_info SET value = '1' WHERE key = 'schema'")
        return catalog.fetch("SELECT path, signature FROM episodes ORDER BY path")


def _is_schema_2_with_ported_from(catalog_db: str) -> None:
    with CatalogDb.open(catalog_db) as catalog:
        assert catalog.fetch("SELECT value FROM catalog_info WHERE key = 'schema'") == [("2",)]
        assert _names(query(catalog, Filters(ported_from="g1"))) == ["e"]
        counts = report(catalog, ["ported_from"], Filters())
        assert [(r["ported_from"], r["episodes"]) for r in counts] == [("", 4), ("g1", 1)]


def test_a_schema_1_catalog_is_brought_to_2_by_the_next_index_run(
    catalog_db: str, bags: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A catalog written before episodes knew where they were ported from (schema 1, no
    ported_from column): a query or report names it and says to run `catalog index`,
    changing nothing (a query host may not see the episodes); opened to index, it gains the
    column, filled from its ported episodes' metadata without reading their recordings
    again, and the report index with it."""
    signatures = _schema_1(catalog_db, bags)
    for command in ("query", "report"):
        assert main(["catalog", command, "--db", catalog_db]) == 2
        err = capsys.readouterr().err
        assert "catalog schema 1" in err and "run `catalog index` once" in err, err
    with CatalogDb.open(catalog_db, create=True) as catalog:
        assert catalog.fetch("SELECT path, signature FROM episodes ORDER BY path") == signatures
        assert index(catalog, [bags]).unchanged == 5
    _is_schema_2_with_ported_from(catalog_db)


def test_a_migration_stopped_midway_leaves_schema_1_and_the_next_one_finishes(
    catalog_db: str, bags: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted while it reads the ported episodes' metadata (Ctrl-C, a killed job), the
    migration leaves the catalog as it was, schema 1 without the new column (SQLite's DDL
    included: it was committed statement by statement, and no command could open the
    catalog again); the next index run migrates it."""
    from humanoid_teleop.catalog import db as catalog_module

    _schema_1(catalog_db, bags)

    def interrupted(path: Path) -> object:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(catalog_module, "read_metadata_yaml", interrupted)
        with pytest.raises(KeyboardInterrupt):
            CatalogDb.open(catalog_db, create=True)
    with pytest.raises(CatalogError, match="catalog schema 1, from before"):
        CatalogDb.open(catalog_db)
    CatalogDb.open(catalog_db, create=True).close()
    _is_schema_2_with_ported_from(catalog_db)


def test_two_index_runs_meeting_a_schema_1_catalog_migrate_it_once(
    catalog_db: str, bags: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second index run that opens the catalog while the first migrates it waits for the
    first's lock, then finds schema 2 (on PostgreSQL it failed with a duplicate column)."""
    from humanoid_teleop.catalog import db as catalog_module

    _schema_1(catalog_db, bags)
    real = catalog_module.read_metadata_yaml
    second: list[object] = []

    def open_second() -> None:
        try:
            with CatalogDb.open(catalog_db, create=True) as catalog:
                second.append(catalog.fetch("SELECT value FROM catalog_info"))
        except BaseException as err:  # the assertion below shows it
            second.append(err)

    thread = threading.Thread(target=open_second)

    def slow_read(path: Path) -> object:
        if not thread.is_alive() and not second:
            thread.start()
            time.sleep(0.5)  # the second run waits on the lock meanwhile
        return real(path)

    monkeypatch.setattr(catalog_module, "read_metadata_yaml", slow_read)
    CatalogDb.open(catalog_db, create=True).close()
    thread.join(timeout=30)
    assert second == [[("2",)]]
    _is_schema_2_with_ported_from(catalog_db)


def test_a_query_of_an_empty_catalog_is_one_line(
    catalog_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing indexed yet (no SQLite file; a PostgreSQL database without the tables): a
    query is one line saying to run `catalog index` first, and creates nothing."""
    assert main(["catalog", "query", "--db", catalog_db]) == 2
    err = capsys.readouterr().err
    assert "run `catalog index ROOT" in err and err.count("\n") == 1, err
    if not catalog_db.startswith("postgresql://"):
        assert not Path(catalog_db).exists()


def _edit_metadata(episode: Path, **changes: object) -> None:
    """Set ``custom_data`` keys (or, for ``starting_time``, the episode's start [ns]) in the
    episode's metadata.yaml, as a hand edit or another tool would."""
    path = episode / "metadata.yaml"
    root = yaml.safe_load(path.read_text())
    info = root["rosbag2_bagfile_information"]
    for key, value in changes.items():
        if key == "starting_time":
            info["starting_time"]["nanoseconds_since_epoch"] = value
        else:
            info["custom_data"][key] = value
    path.write_text(yaml.safe_dump(root, sort_keys=False))


def test_an_episode_with_a_malformed_recorder_log_is_rejected_and_the_rest_indexed(
    bags: Path, catalog_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A loss or sync record that is not the recorder's (edited, another tool's), or a NaN
    in it, fails the episode's QC with a reason naming the record, instead of stopping the
    run or passing for clean; a start time that is no date fails that episode in one line."""
    _edit_metadata(bags / "a", loss='{"received": 10, "dropped": NaN}')
    _edit_metadata(bags / "b", loss='{"topics": [1]}', sync='{"skew": {"/tf": "x"}}')
    _edit_metadata(bags / "c", starting_time=10**30)
    assert main(["catalog", "index", str(bags), "--db", catalog_db]) == 1
    out = capsys.readouterr().out
    assert "3 added" in out and "1 failed" in out, out
    assert f"{bags / 'c' / 'metadata.yaml'}: starting_time {10**30} ns is no date" in out, out
    with CatalogDb.open(catalog_db) as catalog:
        rows = {r["episode"]: r for r in query(catalog, Filters())}
    assert rows["a"]["qc_reasons"] == ["loss ratio nan > 0.001"]
    assert rows["b"]["qc_reasons"] == [
        "metadata.yaml custom_data.loss is not a loss record (topics is not an object of objects)",
        "metadata.yaml custom_data.sync is not a sync record (skew is not an object of objects)",
    ]
    assert rows["a"]["qc"] == rows["b"]["qc"] == "reject"


def test_a_postgresql_server_that_cannot_be_reached_is_one_line() -> None:
    """A URL whose server does not answer (a closed loopback port): one CatalogError line
    naming the URL without its password (libpq's message spans lines)."""
    pytest.importorskip("psycopg", reason="the PostgreSQL driver is not installed")
    url = "postgresql://user:secret@127.0.0.1:9/catalog?connect_timeout=5"
    with pytest.raises(CatalogError) as err:
        CatalogDb.open(url)
    line = str(err.value)
    assert "cannot connect: " in line and "secret" not in line and "\n" not in line, line
