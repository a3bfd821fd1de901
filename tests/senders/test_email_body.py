from senders.email_body import html_from_text


def test_paragraphs_line_breaks_and_clickable_links():
    page = html_from_text(
        "Gentile Maria,\nprenota qui: https://centromedico.example/prenota?x=1&y=2.\n\nA presto"
    )
    assert "<p>Gentile Maria,<br>\nprenota qui: " in page
    link = "https://centromedico.example/prenota?x=1&amp;y=2"
    assert f'<a href="{link}">{link}</a>.' in page
    assert "<p>A presto</p>" in page


def test_what_the_text_holds_is_never_markup():
    page = html_from_text('<script>alert("x")</script> "quoted" & more')
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &quot;quoted&quot; &amp; more" in page


def test_links_in_angle_brackets_or_quotes_stay_whole():
    page = html_from_text('Info: <https://x.example/a?b=1&c=2> or "https://y.example/z"')
    assert '&lt;<a href="https://x.example/a?b=1&amp;c=2">https://x.example/a?b=1&amp;c=2</a>&gt;' in page
    assert '&quot;<a href="https://y.example/z">https://y.example/z</a>&quot;' in page
