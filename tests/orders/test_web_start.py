"""The web process's start (getresto/warm_start.py): views, templates and catalogs loaded, then frozen."""

from __future__ import annotations

import json
import subprocess
import sys

from getresto.warm_start import project_templates
from tests.processes import REPO_ROOT, peer_env

LOADED = """
import gc, json
import getresto.wsgi
from django.template import engines
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({"frozen": gc.get_freeze_count(), "templates": sorted(loader.get_template_cache)}))
"""


def test_the_project_s_templates_are_its_own_and_not_the_libraries():
    names = project_templates()
    assert {"base.html", "orders/_order_list_live.html", "orders/order_detail.html", "menu/page.html"} <= set(names)
    assert not [name for name in names if name.startswith(("admin/", "rest_framework/"))]


def test_a_web_process_compiles_every_template_before_its_first_request_and_freezes_what_it_loaded(request):
    started = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=REPO_ROOT, env=peer_env(request), capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0, started.stderr
    loaded = json.loads(started.stdout.strip().splitlines()[-1])
    assert set(project_templates()) <= set(loaded["templates"])
    # Django, the project and the URLconf: far more than a bare interpreter's few thousand objects.
    assert loaded["frozen"] > 50_000
