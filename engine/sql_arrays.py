"""Python lists as one PostgreSQL array literal.

psycopg2 sends a list as ``ARRAY[1,2,...]``: an expression of one constant per element,
which the server parses and folds one by one. A batch of 2,000 ids costs that on every
query that names them; the same ids as the text ``'{1,2,...}'`` are one constant, read by
the array type's input function. Every query that takes a batch's ids or values passes
them through ``pg_array`` and casts them (``%s::int[]``).
"""


def pg_array(values):
    """``values`` as the text of a PostgreSQL array literal (NULL for None)."""
    return "{" + ",".join(_element(value) for value in values) + "}"


def _element(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
