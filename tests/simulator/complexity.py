"""What an operation costs under Blink's query complexity limit (HTTP only).

Blink's API server measures every HTTP operation before running it, with the
graphql-query-complexity library (1.1.0) and two estimators: a field's own
`extensions.complexity` when it declares one, else 1 plus what its selection
costs. Every public mutation declares 120. An operation costing 200 or more is
refused, with HTTP 500, before anything executes (blinkbitcoin/blink
core/api/src/servers/graphql-server.ts, `ApolloServerPluginGraphQLQueryComplexity`;
core/api/src/graphql/public/root/mutation/ln-invoice-create.ts and the other
mutation files). The websocket server measures nothing.

The walk below follows the library's (slicknode/graphql-query-complexity
src/QueryComplexity.ts, `nodeComplexity`): a fragment costs what its selection
costs wherever it is spread, arguments such as `first:` multiply nothing,
`__typename` costs 1 like any field, `@skip`/`@include` drop what they drop, and
a selection on a union or interface costs what its dearest member type costs.
"""

from collections.abc import Collection, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLDirective,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionNode,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    get_named_type,
    is_composite_type,
    parse,
)
from graphql.execution.values import (
    VariableValues,
    get_directive_values,
    get_variable_values,
)

from .schema import blink_schema

# Blink refuses an operation whose complexity reaches this.
MAXIMUM_COMPLEXITY = 200
# What each of Blink's public mutations declares in `extensions.complexity`.
MUTATION_COMPLEXITY = 120


def too_complex(value: int) -> str:
    """The message of Blink's refusal (graphql-server.ts, `createError`)."""
    return (
        f"Query too complex. Value of {value} is over the maximum {MAXIMUM_COMPLEXITY}."
    )


def complexity(
    document: DocumentNode | str,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    *,
    schema: GraphQLSchema | None = None,
) -> int:
    """The complexity Blink computes for `operation_name` in `document`.

    The document is valid against the schema: Blink validates before measuring
    (Apollo's `didResolveOperation` comes after validation). Without a name every operation of the document counts, as in the library.
    Variables matter only to `@skip`/`@include`: when they do not coerce, the
    coercion error is raised (the library reports it instead of a value); with
    none given (None), a directive that depends on one drops nothing, which
    gives the most the operation can cost.
    """
    if isinstance(document, str):
        document = parse(document)
    schema = schema or blink_schema()
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    total = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        name = definition.name.value if definition.name else None
        if operation_name is not None and name != operation_name:
            continue
        coerced: VariableValues | None = None
        if variables is not None:
            values = get_variable_values(
                schema, definition.variable_definitions or (), dict(variables)
            )
            if isinstance(values, list):
                raise values[-1]
            coerced = values
        root = schema.get_root_type(definition.operation)
        total += _Walk(schema, fragments, coerced).cost(definition.selection_set, root)
    return total


def _add(costs: dict[str, int], cost: int, type_names: Collection[str]) -> None:
    """Add `cost` to each possible type (the library's `addComplexities`)."""
    for name in type_names:
        costs[name] = costs.get(name, 0) + cost


class _Walk:
    """One operation's walk: the schema, the fragments, the variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues | None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _possible(self, type_: GraphQLNamedType) -> list[str]:
        if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
            return [t.name for t in self.schema.get_possible_types(type_)]
        return [type_.name]

    def _included(self, node: SelectionNode) -> bool:
        include, skip = True, False
        for directive in node.directives or ():
            if directive.name.value == "include":
                include = self._condition(GraphQLIncludeDirective, node, default=True)
            elif directive.name.value == "skip":
                skip = self._condition(GraphQLSkipDirective, node, default=False)
        return include and not skip

    def _condition(
        self, directive: GraphQLDirective, node: SelectionNode, *, default: bool
    ) -> bool:
        """The `if:` of `@include` or `@skip`, or `default` when it is unknown."""
        try:
            values = get_directive_values(directive, node, self.variables)
        except GraphQLError:
            return default  # a variable nobody gave
        condition = values.get("if") if values is not None else None
        return condition if isinstance(condition, bool) else default

    def _field(self, type_: GraphQLCompositeType, name: str) -> GraphQLField:
        meta: dict[str, GraphQLField] = {
            "__schema": SchemaMetaFieldDef,
            "__type": TypeMetaFieldDef,
            "__typename": TypeNameMetaFieldDef,
        }
        if name in meta:
            return meta[name]
        # validated: only meta fields are selected on a union
        assert isinstance(type_, GraphQLObjectType | GraphQLInterfaceType)
        field: GraphQLField = type_.fields[name]
        return field

    def _spread_type(
        self, node: FragmentSpreadNode | InlineFragmentNode, type_: GraphQLCompositeType
    ) -> tuple[SelectionSetNode, GraphQLNamedType]:
        """A fragment's selection and the type it applies to."""
        if isinstance(node, InlineFragmentNode):
            condition, selection_set = node.type_condition, node.selection_set
            if condition is None:
                return selection_set, type_
        else:
            fragment = self.fragments[node.name.value]
            condition, selection_set = fragment.type_condition, fragment.selection_set
        on = self.schema.get_type(condition.name.value)
        # validated: a fragment applies to a composite type of the schema
        assert on is not None
        assert is_composite_type(on)
        return selection_set, on

    def cost(
        self, selection_set: SelectionSetNode | None, type_: GraphQLNamedType | None
    ) -> int:
        """The cost of a selection on `type_`: its dearest possible type's."""
        if selection_set is None or not isinstance(type_, GraphQLCompositeType):
            return 0
        possible = self._possible(type_)
        costs: dict[str, int] = {}
        for node in selection_set.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                field = self._field(type_, node.name.value)
                # a mutation declares 120, any other field costs 1
                mutation = type_ is self.schema.mutation_type
                own = MUTATION_COMPLEXITY if mutation else 1
                inner = self.cost(node.selection_set, get_named_type(field.type))
                _add(costs, own + inner, possible)
            else:
                assert isinstance(node, FragmentSpreadNode | InlineFragmentNode)
                spread_set, on = self._spread_type(node, type_)
                _add(costs, self.cost(spread_set, on), self._possible(on))
        return max([*costs.values(), 0])
