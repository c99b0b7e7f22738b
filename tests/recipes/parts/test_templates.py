def test_an_unknown_template_is_named() -> None:
    import pytest

    from recipes.errors import NotFoundError
    from recipes.parts.templates import make_template

    with pytest.raises(NotFoundError, match="part template 'door' not found"):
        make_template("door", {})
