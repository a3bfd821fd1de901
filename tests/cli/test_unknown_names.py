"""A name that is no placeholder (`{{ nome }}`) renders empty, as the contract says: the admin is told."""


def test_create_and_edit_say_when_a_name_is_no_placeholder(campaigns):
    made = campaigns(
        "create",
        "--channel",
        "sms",
        "--name",
        "N",
        "--sender",
        "CentroMed",
        "--body",
        "Ciao {{ nome }}!",
        "--json",
    )
    assert made.code == 0 and made.json["body"] == "Ciao {{ nome }}!"  # saved as asked
    assert "note: {{ nome }} is not a placeholder and reads empty" in made.err
    fixed = campaigns("edit", str(made.json["id"]), "--body", "Ciao {{ first_name }}!", "--json")
    assert fixed.code == 0 and "note" not in fixed.err
