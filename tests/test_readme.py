"""The README's quickstart runs as written (with a 2-epoch budget to keep the suite fast)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quickstart_runs():
    block = re.search(r"## Quickstart\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert "early_stopping=True, random_state=0))" in block
    code = block.replace("early_stopping=True, random_state=0))",
                         "early_stopping=True, random_state=0, max_epochs=2))")
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    proba, y = namespace["proba"], namespace["y_te"]
    assert proba.shape == (len(y), 2)
    assert 0 <= namespace["dp"] <= 1
    assert namespace["clf"][-1].sensitive_groups_[0].tolist() == ["Female", "Male"]
