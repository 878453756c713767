"""The Markdown-to-HTML page: sections that collapse, tables that sort and filter, links and anchors."""

from suite.report.html import FILTER_ROWS, inline, slug, to_html


def test_slugs_are_the_code_hosts_anchors():
    assert slug("Machines side by side") == "machines-side-by-side"
    assert slug("Speed at the fastrnns point (T=100)") == "speed-at-the-fastrnns-point-t100"


def test_inline_marks_and_links():
    assert (
        inline("**a** `b` [c](d.json) _e_ x<y")
        == '<b>a</b> <code>b</code> <a href="d.json">c</a> <i>e</i> x&lt;y'
    )
    assert inline("speed_vs_length") == "speed_vs_length"  # underscores inside words are not italics


def test_a_section_with_a_gist_collapses_to_it_and_others_stay_open(tmp_path):
    markdown = "# Title\n\n## Findings\n\n- one\n- two\n\n## Speed\n\n> 3 runs.\n\ntext\n\n"
    markdown += "### Sub\n\n## Memory\n\n> none.\n"
    page = to_html(markdown, tmp_path)
    assert "<h2 id='findings'>Findings</h2><ul><li>one</li><li>two</li></ul>" in page
    assert "<details id='speed'><summary><h2>Speed</h2><span class='gist'>3 runs.</span></summary>" in page
    assert page.index("<h3 id='sub'>") < page.index("</details><details id='memory'>")
    assert page.count("<details") == page.count("</details>") == 2


def test_long_tables_get_a_filter_box_and_every_table_sorts(tmp_path):
    def table(n):
        return "| a | b |\n|---|---|\n" + "\n".join(f"| {i} | x |" for i in range(n))

    short, long = to_html(table(FILTER_ROWS), tmp_path), to_html(table(FILTER_ROWS + 1), tmp_path)
    assert "class='filter'" not in short and "class='filter'" in long
    assert "<table class='data'><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>0</td>" in short
    assert "function openTarget" in short and "http" not in short.split("<body>")[0]  # nothing fetched
