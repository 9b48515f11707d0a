"""The README's quickstart runs as written (with a 2-epoch budget to keep the suite fast)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quickstart_runs():
    block = re.search(r"## Quickstart\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    marker = 'batch_sampler="stratified", random_state=0)'
    assert marker in block
    code = block.replace(marker, marker[:-1] + ", max_epochs=2)")
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    proba, y = namespace["proba"], namespace["y_te"]
    assert proba.shape == (len(y), 2)
    assert 0 <= namespace["dp"] <= 1
    assert namespace["clf"].sensitive_groups_[0].tolist() == ["Female", "Male"]
    assert "make_column_transformer" not in block  # the frame goes in as it is (issue 12)
