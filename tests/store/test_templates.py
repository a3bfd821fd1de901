"""Templates render the same text whether they take the plain-substitution path or Jinja2's."""

import pytest

from store.templates import _substitution, compile_template, render

VALUES = {"first_name": "Maria", "last_name": "D'Angelo <m>", "coupon": "SCONTO10"}


@pytest.mark.parametrize(
    ("source", "plain"),
    [
        ("Ciao {{ first_name }}, il tuo codice è {{coupon}}.", True),
        ("{{ last_name }}\n\n", True),
        ("Ciao   {{- first_name -}}  !\n", True),
        ("{% raw %}{{ first_name }}{% endraw %} e {{ first_name }}", True),
        ("Nessun segnaposto", True),
        ("", True),
        ("{# nota #}Ciao {{ first_name }}", True),
        ("{% if coupon %}Codice {{ coupon }}{% endif %}", False),
        ("{{ first_name|upper }} {{ missing }}", False),
        ("{{ first_name ~ last_name }}", False),
    ],
)
def test_plain_substitution_renders_what_jinja_renders(source: str, plain: bool) -> None:
    assert (_substitution(source) is not None) is plain
    assert render(source, VALUES) == compile_template(source).render(VALUES)
