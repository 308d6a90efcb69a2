"""Reading a Pulumi project and a stack's config as the Pulumi CLI v3.274.0 does (kmsguard.engine.project).

Each rule names the Go source it follows; the messages are the CLI's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmsguard.engine.project import (
    SECRET_PLACEHOLDER,
    go_json,
    load_project,
    load_stack_config,
    stack_name,
)
from kmsguard.errors import KmsguardError


def project(tmp_path: Path, body: str, name: str = "proj") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n{body}", encoding="utf-8")
    (tmp_path / "__main__.py").write_text("", encoding="utf-8")
    return tmp_path


def stack_file(tmp_path: Path, stack: str, body: str) -> None:
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(body, encoding="utf-8")


def config(tmp_path: Path, stack: str = "dev", **overrides: str) -> dict[str, str]:
    return dict(load_stack_config(load_project(tmp_path), stack, overrides or None).values)


# -- project-level config (pkg/workspace/config.go mergeConfig, project.go) ------------------------------

PROJECT_CONFIG = """\
config:
  size: t3.micro            # shorthand, project key: a default
  count: 3
  enabled: true
  zones: [a, b]
  aws:region: us-west-2     # shorthand, other namespace: a value
  proj:prefixed: p          # the project's own namespace written out
  typed:
    type: integer
    default: 5
    description: how many
  tags:
    type: object
    default: {b: 2, a: "x<y"}
  ratio:
    type: integer
    default: 2.0
  list:
    type: array
    items: {type: string}
    default: [x, y]
  azure-native:location:
    value: westeurope
  needed:
    type: string
"""


def test_project_defaults_and_values_merge_under_stack_values(tmp_path: Path) -> None:
    project(tmp_path, PROJECT_CONFIG)
    stack_file(
        tmp_path, "dev", "config:\n  proj:needed: yes-given\n  size: m5.large\n  aws:region: eu-west-1\n"
    )
    assert config(tmp_path) == {
        "proj:size": "m5.large",  # the stack value wins over the project default
        "proj:count": "3",
        "proj:enabled": "true",
        "proj:zones": '["a","b"]',  # arrays reach the program as Go's JSON
        "aws:region": "eu-west-1",  # a stack value wins over a project `value` too
        "proj:prefixed": "p",
        "proj:typed": "5",
        "proj:tags": '{"a":"x\\u003cy","b":2}',  # Go's json.Marshal: sorted keys, HTML-escaped
        "proj:ratio": "2",  # a float default is JSON: 2.0 is written 2
        "proj:list": '["x","y"]',
        "azure-native:location": "westeurope",
        "proj:needed": "yes-given",
    }


def test_a_declared_key_without_default_or_stack_value_is_missing(tmp_path: Path) -> None:
    # mergeConfig: no stack value, no default, no value, in the project's namespace → missing
    # (typed or not); the CLI lists them all, sorted.
    project(tmp_path, "config:\n  b:\n    type: string\n  a:\n    description: x\n  c:\n    type: integer\n")
    with pytest.raises(
        KmsguardError,
        match=r"^validating stack config: Stack 'dev' is missing configuration values 'a', 'b' and 'c'$",
    ):
        config(tmp_path)
    project(tmp_path, "config:\n  only:\n    type: string\n")
    with pytest.raises(
        KmsguardError, match=r"^validating stack config: Stack 'dev' is missing configuration value 'only'$"
    ):
        config(tmp_path)
    # A --config value (saved to the stack file before the merge) settles it.
    assert config(tmp_path, only="given") == {"proj:only": "given"}


@pytest.mark.parametrize(
    ("declaration", "stack_value", "type_name"),
    [
        ("type: integer", "abc", "integer"),
        ("type: integer", "1.5", "integer"),
        ("type: boolean", "yes-please", "boolean"),
        ("type: object", "plain", "object"),
        ("type: array\n    items: {type: integer}", "[1, x]", "array<integer>"),
        ("type: array\n    items: {type: string}", "notalist", "array<string>"),
        (
            "type: array\n    items:\n      type: array\n      items: {type: boolean}",
            "[[true], [3]]",
            "array<array<boolean>>",
        ),
    ],
)
def test_stack_values_of_the_wrong_type(
    tmp_path: Path, declaration: str, stack_value: str, type_name: str
) -> None:
    project(tmp_path, f"config:\n  key:\n    {declaration}\n")
    stack_file(tmp_path, "dev", f"config:\n  proj:key: {stack_value}\n")
    with pytest.raises(
        KmsguardError,
        match=rf"^validating stack config: Stack 'dev' with configuration key 'key' must be of type '{type_name}'$",
    ):
        config(tmp_path)


@pytest.mark.parametrize(
    ("declaration", "stack_value", "expected"),
    [
        ("type: integer", "7", "7"),
        ("type: integer", "'-12'", "-12"),  # a string that strconv.Atoi takes
        ("type: integer", "4.0", "4"),  # whole float: allowed, written as Go writes it
        ("type: boolean", "false", "false"),
        ("type: boolean", "'true'", "true"),
        ("type: string", "42", "42"),  # any scalar's text is a string
        ("type: object", "{z: 1, a: [1.5]}", '{"a":[1.5],"z":1}'),
        ("type: array\n    items: {type: integer}", "[1, 2]", "[1,2]"),
    ],
)
def test_stack_values_of_the_right_type(
    tmp_path: Path, declaration: str, stack_value: str, expected: str
) -> None:
    project(tmp_path, f"config:\n  key:\n    {declaration}\n")
    stack_file(tmp_path, "dev", f"config:\n  key: {stack_value}\n")
    assert config(tmp_path) == {"proj:key": expected}


def test_secret_declarations(tmp_path: Path) -> None:
    project(tmp_path, "config:\n  key:\n    type: integer\n    secret: true\n")
    stack_file(tmp_path, "dev", "config:\n  proj:key: 5\n")
    with pytest.raises(
        KmsguardError,
        match=r"^validating stack config: Stack 'dev' with configuration key 'key' must be encrypted as it's secret$",
    ):
        config(tmp_path)
    # Encrypted: accepted; its type cannot be checked offline (the CLI checks the decrypted value).
    stack_file(tmp_path, "dev", "config:\n  proj:key:\n    secure: AAABAxyz\n")
    stack = load_stack_config(load_project(tmp_path), "dev")
    assert dict(stack.values) == {"proj:key": SECRET_PLACEHOLDER}
    assert stack.secret_keys == ("proj:key",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "config:\n  k:\n    default: 1\n    value: 2\n",
            r"project config 'k' cannot have both a 'default' and 'value' attribute",
        ),
        (
            "config:\n  k:\n    type: array\n",
            r"The configuration key 'k' declares an array but does not specify the underlying type via the 'items' attribute",
        ),
        (
            "config:\n  k:\n    type: integer\n    default: abc\n",
            r"The default value specified for configuration key 'k' is not of the expected type 'integer'",
        ),
        (
            "config:\n  aws:region:\n    type: string\n    value: x\n",
            r"Configuration key 'aws:region' is not namespaced by the project and should not define a type",
        ),
        (
            "config:\n  aws:region:\n    default: x\n",
            r"Configuration key 'aws:region' is not namespaced by the project and should not define a default value\. "
            r"Did you mean to use the 'value' attribute instead of 'default'\?",
        ),
        (
            "config:\n  aws:region:\n    description: x\n",
            r"Configuration key 'aws:region' is namespaced and must provide an attribute 'value'",
        ),
    ],
)
def test_project_validate_rules(tmp_path: Path, body: str, message: str) -> None:
    # project.go Project.Validate, wrapped by LoadProjectBytes in "could not unmarshal '<file>'".
    project(tmp_path, body)
    with pytest.raises(KmsguardError, match=rf"^could not unmarshal '.*Pulumi\.yaml': {message}$"):
        load_project(tmp_path)


def test_project_schema_rules(tmp_path: Path) -> None:
    project(tmp_path, "config:\n  k:\n    type: number\n")
    with pytest.raises(KmsguardError, match=r"could not validate .*#/config/k/type: value must be one of"):
        load_project(tmp_path)
    project(tmp_path, "config:\n  k:\n    typo: 1\n")
    with pytest.raises(KmsguardError, match=r"#/config/k: additional properties \['typo'\] not allowed"):
        load_project(tmp_path)
    project(tmp_path, "config:\n  k: 1.5\n")  # a float shorthand is none of the schema's alternatives
    with pytest.raises(KmsguardError, match=r"#/config/k: expected a string, an integer"):
        load_project(tmp_path)


def test_config_as_a_string_is_the_old_stack_config_dir(tmp_path: Path) -> None:
    # RewriteConfigPathIntoStackConfigDir (project.go).
    project(tmp_path, "config: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  a: b\n")
    assert load_project(tmp_path).stack_config_dir == tmp_path.resolve() / "stacks"
    assert config(tmp_path) == {"proj:a": "b"}
    project(tmp_path, "config: stacks\nstackConfigDir: other\n")
    with pytest.raises(KmsguardError, match=r"Should not use both config and stackConfigDir"):
        load_project(tmp_path)


def test_stack_values_as_the_cli_passes_them(tmp_path: Path) -> None:
    # object.go MarshalString: strings as written, other scalars as their JSON text, objects as JSON.
    project(tmp_path, "")
    stack_file(
        tmp_path,
        "dev",
        "config:\n"
        "  a: 1.0\n"  # float64 → "1"
        "  b: 1.0e+21\n"
        "  c: 0.0000001\n"
        "  d: 2024-01-01\n"  # yaml.v3 keeps a timestamp-looking value as text
        "  e: {k: [1, 2.5, null], j: 'é&'}\n"
        "  f:\n"  # null: the zero Value, "" (the CLI warns)
        "  aws:config:region: x\n",  # the old `ns:config:name` spelling is `ns:name`
    )
    assert config(tmp_path) == {
        "proj:a": "1",
        "proj:b": "1e+21",
        "proj:c": "1e-7",
        "proj:d": "2024-01-01",
        "proj:e": '{"j":"é\\u0026","k":[1,2.5,null]}',
        "proj:f": "",
        "aws:region": "x",
    }


def test_a_stack_without_a_stack_file_has_empty_config(tmp_path: Path) -> None:
    # LoadProjectStack (loaders.go): os.IsNotExist → an empty ProjectStack.
    project(tmp_path, "config:\n  size: small\n")
    assert config(tmp_path, "staging") == {"proj:size": "small"}


def test_stack_file_extension_follows_the_project_file(tmp_path: Path) -> None:
    # ProjectStackPath (paths.go): Pulumi.<stack> + the project file's extension.
    (tmp_path / "Pulumi.yml").write_text("name: proj\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "Pulumi.dev.yml").write_text("config:\n  a: from-yml\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  a: from-yaml\n")
    assert config(tmp_path) == {"proj:a": "from-yml"}


# -- stack references (pkg/backend/diy/store.go ParseReference) -----------------------------------------


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("dev", "dev"),
        ("organization/dev", "dev"),
        ("organization/proj/dev", "dev"),
        ("organization//dev", "dev"),
    ],
)
def test_stack_references(reference: str, name: str) -> None:
    assert stack_name("proj", reference) == name


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "stack name must not be empty"),
        ("acme/dev", "organization name must be 'organization'"),
        (
            "proj/dev",
            "organization name must be 'organization'",
        ),  # two parts are org/stack, not project/stack
        ("organization/other/dev", 'provided project name "other" doesn\'t match Pulumi.yaml'),
        (
            "organization/bad name/dev",
            "project names may only contain alphanumerics, hyphens, underscores, and periods",
        ),
        ("a/b/c/d", "a stack name may not be empty"),
        (
            "de v",
            "a stack name may only contain alphanumeric, hyphens, underscores, or periods: "
            "invalid character ' ' at position 2",
        ),
        ("x" * 101, "a stack name cannot exceed 100 characters"),
    ],
)
def test_bad_stack_references(reference: str, message: str) -> None:
    with pytest.raises(KmsguardError) as raised:
        stack_name("proj", reference)
    assert str(raised.value) == message


def test_full_references_read_the_stack_file_of_the_name_part(tmp_path: Path) -> None:
    project(tmp_path, "")
    stack_file(tmp_path, "dev", "config:\n  a: b\n")
    assert config(tmp_path, "organization/proj/dev") == {"proj:a": "b"}


# -- Go's encoding/json ----------------------------------------------------------------------------------


def test_go_json() -> None:
    assert go_json({"b": [1, 2.0, True, None], "a": "<&>\u2028\n\x01"}) == (
        '{"a":"\\u003c\\u0026\\u003e\\u2028\\n\\u0001","b":[1,2,true,null]}'
    )
    assert [go_json(v) for v in (1e20, 1e21, 1e-6, 1e-7, 123.456, -0.5, 1.5e-10)] == [
        "100000000000000000000",
        "1e+21",
        "0.000001",
        "1e-7",
        "123.456",
        "-0.5",
        "1.5e-10",
    ]
    assert json.loads(go_json({"é": "ü"})) == {"é": "ü"}
