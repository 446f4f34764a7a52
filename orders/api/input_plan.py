"""The intake API's body validated by a plan compiled from the input serializers' own bound fields.

DRF's ``Serializer.is_valid`` spends most of its time on machinery around the rules: a copy
of every declared field per request, binding, ``get_value`` / ``validate_empty_values`` /
``set_value`` for each of about 80 values, SkipField exceptions for the absent ones. The rules
themselves are few and stay where they are declared (orders/api/serializers.py, fields.py).

``validated`` walks the body once with the fields of one serializer tree per thread, bound once:
for each value it calls the declared field's own ``run_validation`` (or, for the common cases
of a few field classes, a check derived from the field's declared arguments that gives the same
value), each ``validate_<name>`` method and each serializer's ``validate``, in DRF's order, with
DRF's rules for absent and null values and defaults. It accepts only what DRF accepts: at the
first value it cannot vouch for (any refusal, or a type it does not know), it gives up and the
caller runs the serializer, which finds the same problems and words them. So every error answer
is DRF's own, and a valid body gives the same validated data either way
(tests/orders/test_api_input_plan.py holds the two equal over a corpus of good and bad bodies).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.core.validators import MaxLengthValidator, MinLengthValidator, ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.fields import CharField, ChoiceField, DictField, Field, ListField, _UnvalidatedField, empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from orders.api.fields import StrictCharField


class _GiveUp(Exception):
    """A value this plan does not vouch for: the serializer decides (and words the refusal)."""


_Check = Callable[[Any], Any]


def _field_check(field: Field) -> _Check:
    """A value's check for one bound field: its validated value, or _GiveUp."""
    if isinstance(field, serializers.BaseSerializer):
        return _serializer_check(field)
    if isinstance(field, ListField):
        return _list_check(field)
    if isinstance(field, DictField):
        return _dict_check(field)
    check = _declared(field)
    fast = _fast_check(field)
    if fast is None:
        return check

    def fast_or_declared(value: Any) -> Any:
        result = fast(value)
        return check(value) if result is _NOT_SURE else result

    return fast_or_declared


def _declared(field: Field) -> _Check:
    """The field's own run_validation; a refusal gives up."""

    def check(value: Any) -> Any:
        try:
            return field.run_validation(value)
        except (serializers.ValidationError, serializers.SkipField):
            raise _GiveUp from None

    return check


_NOT_SURE = object()
_TEXT_VALIDATORS = (MaxLengthValidator, ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)


def _fast_check(field: Field) -> _Check | None:
    """For a text or a choice as DRF declares them (the bulk of a body), what ``run_validation`` would give, without
    its generic steps; _NOT_SURE for anything else (the field itself then checks the value)."""
    if type(field) is ChoiceField and not field.validators:
        choices = field.choice_strings_to_values

        def choice(value: Any) -> Any:
            # A known choice: to_internal_value's lookup (the blank and every other value go to the field).
            if type(value) is str and value:
                try:
                    return choices[value]
                except KeyError:
                    raise _GiveUp from None
            return _NOT_SURE

        return choice
    # StrictCharField only refuses what is not a string before CharField's own conversion.
    if type(field) in (CharField, StrictCharField) and field.min_length is None:
        if not all(isinstance(validator, _TEXT_VALIDATORS) for validator in field.validators):
            return None
        limits = [v.limit_value for v in field.validators if isinstance(v, MaxLengthValidator)]
        limit = min(limits) if limits else None
        trim = field.trim_whitespace

        def text(value: Any) -> Any:
            # Not blank, nothing to trim, within the length, no NUL, no lone surrogate: DRF gives the string as it is.
            if type(value) is not str or not value or (trim and value.strip() != value):
                return _NOT_SURE
            if (limit is not None and len(value) > limit) or "\x00" in value:
                return _NOT_SURE
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return _NOT_SURE
            return value

        return text
    return None


def _absent_or_null(field: Field) -> tuple[Callable[[], Any] | None, bool]:
    """What an absent value gives (a function giving the default, or None: left out) and whether null is allowed;
    a required field's absence gives up."""
    if field.required:
        return _give_up, field.allow_null
    if field.default is empty:
        return None, field.allow_null
    return field.get_default, field.allow_null


def _give_up() -> Any:
    raise _GiveUp


def _serializer_check(serializer: serializers.BaseSerializer) -> _Check:
    """A nested serializer (or the root): a dict, each field in declared order, validate_<name>, then validate()."""
    plan = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if field.source_attrs != [name]:
            raise AssertionError(f"{type(serializer).__name__}.{name}: the plan takes each value to its own name")
        absent, allow_null = _absent_or_null(field)
        plan.append((name, _field_check(field), absent, allow_null, getattr(serializer, f"validate_{name}", None)))
    validate = serializer.validate
    if serializer.validators:
        raise AssertionError(f"{type(serializer).__name__}: serializer-level validators are not in the plan")

    def check(data: Any) -> dict:
        if type(data) is not dict:
            raise _GiveUp
        attrs = {}
        for name, field_check, absent, allow_null, validate_value in plan:
            value = data.get(name, empty)
            if value is empty:
                if absent is None:
                    continue
                value = absent()
            elif value is None:
                if not allow_null:
                    raise _GiveUp
            else:
                value = field_check(value)
            if validate_value is not None:
                try:
                    value = validate_value(value)
                except serializers.ValidationError:
                    raise _GiveUp from None
            attrs[name] = value
        try:
            return validate(attrs)
        except serializers.ValidationError:
            raise _GiveUp from None

    return check


def _list_check(field: ListField) -> _Check:
    length_validators = (MaxLengthValidator, MinLengthValidator)
    if not all(isinstance(validator, length_validators) for validator in field.validators):
        return _declared(field)
    child = _field_check(field.child)
    lowest = max(
        [0 if field.allow_empty else 1] + [v.limit_value for v in field.validators if isinstance(v, length_validators[1])]
    )
    highest = min([v.limit_value for v in field.validators if isinstance(v, length_validators[0])], default=None)

    def check(value: Any) -> list:
        if type(value) is not list or len(value) < lowest or (highest is not None and len(value) > highest):
            raise _GiveUp
        return [_child_value(child, entry) for entry in value]

    return check


def _dict_check(field: DictField) -> _Check:
    if field.validators or not field.allow_empty:
        return _declared(field)
    if isinstance(field.child, _UnvalidatedField):
        # A free object (a payment's info): DRF keeps each value as it is, keys as strings.
        return lambda value: {str(key): entry for key, entry in value.items()} if type(value) is dict else _give_up()
    child = _field_check(field.child)

    def check(value: Any) -> dict:
        if type(value) is not dict:
            raise _GiveUp
        return {str(key): _child_value(child, entry) for key, entry in value.items()}

    return check


def _child_value(child: _Check, value: Any) -> Any:
    # A list's or dict's child: DRF refuses null and absent entries unless the child allows null.
    if value is None:
        raise _GiveUp
    return child(value)


class _Compiled(threading.local):
    """One bound serializer tree and its plan per thread and serializer class: fields read the request's context
    through their root, which only this thread uses."""

    def __init__(self) -> None:
        self.plans: dict[type, tuple[serializers.Serializer, _Check]] = {}


_compiled = _Compiled()


def validated(serializer_class: type[serializers.Serializer], data: Any, context: dict) -> dict | None:
    """``serializer_class(data=data, context=context).validated_data`` when the plan vouches for the whole body; None
    when it does not (then the serializer itself is to be run, for its answer)."""
    entry = _compiled.plans.get(serializer_class)
    if entry is None:
        root = serializer_class(context={})
        entry = _compiled.plans[serializer_class] = (root, _serializer_check(root))
    root, check = entry
    root._context = context
    try:
        return check(data)
    except _GiveUp:
        return None
    finally:
        root._context = {}
