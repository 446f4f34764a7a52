"""The project's import graph, read from the source with grimp (the library behind import-linter).

No import cycle among the project's modules; services never import a task module
(tasks import services; services queue tasks by name through hubrise_sync.queue);
orders and menu never import the apps that depend on them. Pure reading: nothing
is imported or run.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_PRODUCT = {"tests", "bench"}
# The app configs register the tasks at start-up, the one place that may import them from outside.
MAY_IMPORT_TASKS = {"hubrise_sync.apps", "printing.apps"}


def product_packages() -> list[str]:
    return sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_PRODUCT and not path.parent.name.startswith(".")
    )


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*product_packages(), cache_dir=None, exclude_type_checking_imports=True)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_the_graph_covers_the_product(graph):
    assert {"orders", "hubrise_sync", "getresto", "hubrise_sandbox"} <= set(product_packages())
    assert "hubrise_sync.outbox.state" in graph.modules


def test_no_module_imports_itself_through_others(graph):
    found = cycles(graph)
    detail = "\n".join(" -> ".join(graph.find_shortest_chain(importer=group[0], imported=group[-1]) or group) for group in found)
    assert found == [], f"import cycles:\n{detail}"


def test_services_never_import_a_task_module(graph):
    task_modules = {module for module in graph.modules if "tasks" in module.split(".")}
    importers = {
        (importer, task)
        for task in task_modules
        for importer in graph.find_modules_that_directly_import(task)
        if "tasks" not in importer.split(".") and importer not in MAY_IMPORT_TASKS
    }
    assert importers == set(), "queue tasks by name (hubrise_sync.queue) instead of importing them"


def test_the_restaurant_side_never_imports_the_apps_built_on_it(graph):
    bases = [base for base in ("orders", "menu") if base in graph.modules]
    dependents = [dependent for dependent in ("hubrise_sync", "printing") if dependent in graph.modules]
    assert "orders" in bases and "hubrise_sync" in dependents
    wrong = [
        (base, dependent)
        for base in bases
        for dependent in dependents
        if graph.chain_exists(importer=base, imported=dependent, as_packages=True)
    ]
    assert wrong == []
