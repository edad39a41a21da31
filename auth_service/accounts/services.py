"""Writes of the accounts app: users, their tokens and their standing, passwords, login throttling.

Revocation has two parts. A user's *standing* (active, staff, superuser and token generation)
is written to Redis after every change, and every service checks it on each request
(``edge.revocation``). Removing staff or superuser status, deactivating a user and resetting a
password all bump the user's token generation, which refuses every token issued before: the
admin sites read ``is_staff`` from the token, so a token whose claims no longer describe the
user must stop working, and reactivating a user must not revive their old tokens.
"""

import hashlib
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.errors import CannotChangeYourself, LoginDelayed, NotYourToken, StaffCredentialsSuperuserOnly
from accounts.models import RevokedAccessToken, Role, User
from accounts.selectors import user_state_of
from accounts.throttling import login_attempt_count, login_attempt_forget
from accounts.tokens import AccessToken, RefreshToken, email_confirmation_token_generator, token_backend
from edge.events import (
    EmailAlreadyRegistered,
    EmailConfirmationRequested,
    PasswordResetRequested,
    StaffAlertsSubscriptionChanged,
    UserRegistered,
)
from edge.grants import (
    StaffActor,
    SuperuserOnly,
    grants_check,
    roles_grant_check,
    staff_access_grant_check,
    superuser_change_check,
    user_grants_set,
)
from edge.messaging.services import publish
from edge.revocation import access_token_revoke, user_state_store
from edge.roles import ROLES
from edge.tokens import Claims

REFRESH_REVOKED = "Token has been revoked."
SESSION_TOO_OLD = "The session has reached its time limit; log in again."
REFRESH_REUSED = "Token was used before: every token of this account is revoked; log in again."

ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser")
# The per-address cap on registration and password reset emails counts this long.
ACCOUNT_EMAILS_WINDOW_SECONDS = 3600


# --- registration ---------------------------------------------------------------------------


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "") -> None:
    """Register an account for a new address, or tell the owner of a taken one; the caller
    answers the same either way, so registering tells nobody which addresses have accounts.

    A new address gets an account with its email unconfirmed and an email with the link that
    confirms it (``user_email_confirm``). A taken one (in any case) gets an email saying someone
    tried to register with it, with a link that sets a new password. Neither email carries
    anything the registrant typed but the address: the name waits for the confirmation. Both
    paths hash the password, the costly part, so neither answers noticeably sooner.
    """
    email = User.objects.normalize_email(email)
    user = None
    if not User.objects.filter(email__iexact=email).exists():
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password, full_name=full_name)
        except IntegrityError:
            pass  # a request racing this one registered the address first: it is taken
    if user is not None:
        if account_email_slot_take(email=user.email):
            publish(
                EmailConfirmationRequested(
                    user_id=user.pk, email=user.email, confirm_url=_email_confirmation_url(user)
                )
            )
        return
    make_password(password)
    owner = User.objects.filter(email__iexact=email, is_active=True).first()
    # As for a password reset: none for an account without a password (staff made it so).
    if owner is None or not owner.has_usable_password():
        return
    if account_email_slot_take(email=owner.email):
        publish(
            EmailAlreadyRegistered(user_id=owner.pk, email=owner.email, reset_url=_password_reset_url(owner))
        )


def _email_confirmation_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_confirmation_token_generator.make_token(user)
    return f"{settings.PUBLIC_BASE_URL}/register/confirm/{uid}/{token}/"


@transaction.atomic
def user_email_confirm(*, user: User) -> User:
    """The owner of the address followed the link: the account may place orders, and the welcome
    email, with the name they gave, goes out (once).

    Tokens issued before still say unconfirmed (``email_verified``) until they are refreshed.
    """
    if _email_confirmed_mark(user=user):
        publish(UserRegistered(user_id=user.pk, email=user.email, full_name=user.full_name))
    return user


def _email_confirmed_mark(*, user: User) -> bool:
    """Mark the user's address confirmed; True when it was not before."""
    # Conditional: of two confirmations racing, one marks it and sends the welcome.
    marked = User.objects.filter(pk=user.pk, email_confirmed_at__isnull=True).update(
        email_confirmed_at=timezone.now()
    )
    user.refresh_from_db(fields=["email_confirmed_at"])
    return bool(marked)


def account_email_slot_take(*, email: str) -> bool:
    """May registration or a password reset email this address now? Takes one of its slots if so.

    Each address has ``ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR`` slots, each a key that Redis adds
    only when absent (atomic, so concurrent requests cannot share one) and drops an hour later:
    at most that many such emails reach an address in any hour, however many requests ask. With
    Redis out of reach the cap pauses (the gateway's rate limit still holds) rather than
    registration and password resets stopping.
    """
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()  # the cache holds no addresses
    for slot in range(settings.ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR):
        taken = caches[settings.ABUSE_COUNTS_CACHE].add(
            f"account-emails:{address}:{slot}", 1, timeout=ACCOUNT_EMAILS_WINDOW_SECONDS
        )
        # None: Redis is out of reach (django-redis answers so), and the cap pauses.
        if taken or taken is None:
            return True
    return False


# --- standing in Redis ----------------------------------------------------------------------


def user_state_sync(*, user_id: int) -> None:
    """Write the user's standing to Redis as the database has it.

    Written at once, so that when Redis cannot be reached the error aborts the change
    instead of leaving a standing behind that no longer holds; and again once the change
    commits, from the committed row.
    """

    def store() -> None:
        user_state_store(user_id=user_id, state=user_state_of(User.objects.filter(pk=user_id).first()))

    store()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(store, robust=False)


@transaction.atomic
def user_tokens_revoke_all(*, user: User) -> User:
    """Refuse every access and refresh token issued to the user so far."""
    User.objects.filter(pk=user.pk).update(token_generation=F("token_generation") + 1)
    user.refresh_from_db(fields=["token_generation"])
    user_state_sync(user_id=user.pk)
    return user


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    refresh: RefreshToken
    access: AccessToken


def token_pair_issue(*, user: User, auth_time: int | None = None) -> TokenPair:
    """A refresh token and its access token, with the claims every service reads.

    ``auth_time`` is when the user entered their password; a refreshed pair keeps it, so a
    browser session can be held to an absolute limit.
    """
    refresh = RefreshToken.for_user(user)
    refresh["email"] = user.email
    refresh["is_staff"] = user.is_staff
    refresh["is_superuser"] = user.is_superuser
    refresh["gen"] = user.token_generation
    # Every service turns these into its own permissions (edge.roles).
    refresh["roles"] = sorted(user.roles.values_list("slug", flat=True))
    # Orders are placed only by an account whose owner confirmed its address (OpenID Connect's name).
    refresh["email_verified"] = user.email_confirmed
    refresh["auth_time"] = auth_time or int(time.time())
    access = refresh.access_token
    # The session id: logging out with only the access token can still revoke its refresh token.
    access["sid"] = refresh["jti"]
    # Services without the user's standing in Redis accept signed tokens, so it is written now;
    # with Redis down a login still works (the gateway then reads the standing from the database).
    with suppress(ConnectionInterrupted, RedisError):
        user_state_store(user_id=user.pk, state=user_state_of(user))
    return TokenPair(refresh=refresh, access=access)


def token_refresh(*, raw_refresh: str, max_session_age: int | None = None) -> TokenPair:
    """A new pair for a refresh token, which is used up (blacklisted): a stolen copy cannot replay it.

    The claims are read afresh from the user. A staff session ends ``STAFF_SESSION_MAX_AGE``
    after the password was entered, whichever way it is renewed; ``max_session_age`` holds other
    sessions (a browser's) to a limit too. A refresh token used a second time means two parties
    hold it, the thief perhaps being the one who came first: every token of the user is revoked
    (OAuth 2.0 Security BCP, refresh token reuse detection). Raises ``TokenError``.
    """
    try:
        refresh = RefreshToken(raw_refresh)  # signature, expiry, type and the blacklist
    except TokenError as error:
        if _refresh_reuse_revoke(raw_refresh):
            raise TokenError(REFRESH_REUSED) from error
        raise
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=refresh["user_id"]).first()
        if user is None or not user.is_active or refresh.get("gen", 0) < user.token_generation:
            raise TokenError(REFRESH_REVOKED)
        staff_limit = settings.STAFF_SESSION_MAX_AGE.total_seconds() if user.is_staff else None
        limit = min((age for age in (max_session_age, staff_limit) if age is not None), default=None)
        if limit is not None and time.time() - refresh.get("auth_time", 0) > limit:
            raise TokenError(SESSION_TOO_OLD)
        # Two requests racing with the same token: only the first creates the blacklist row.
        _, first_use = refresh.blacklist()
        if first_use:
            return token_pair_issue(user=user, auth_time=refresh.get("auth_time"))
    # Outside the transaction that saw the reuse, so that the revocation commits.
    user_tokens_revoke_all(user=user)
    raise TokenError(REFRESH_REUSED)


def _refresh_reuse_revoke(raw_refresh: str) -> bool:
    """When a validly signed, unexpired refresh token was refused as used before, revoke its user's tokens.

    Only while its generation is the user's current one: an older token's family is dead already,
    and the user's sessions since are new logins with the password. True when it revoked.
    """
    try:
        payload = token_backend.decode(raw_refresh)
    except TokenBackendError:
        return False
    if payload.get("token_type") != "refresh":
        return False
    if not BlacklistedToken.objects.filter(token__jti=payload.get("jti")).exists():
        return False
    user = User.objects.filter(pk=payload["user_id"], token_generation=payload.get("gen", 0)).first()
    if user is None:
        return False
    user_tokens_revoke_all(user=user)
    return True


def token_revoke(*, access: Claims | None = None, raw_refresh: str | None = None) -> None:
    """Logout: the access token is refused from now on and its refresh token cannot be used.

    The refresh token is the one given, or the one the access token was issued with.
    """
    if raw_refresh:
        try:
            refresh = RefreshToken(raw_refresh)
        except TokenError:
            refresh = None  # expired or already revoked: nothing left to revoke
        if refresh is not None:
            if access is not None and int(refresh["user_id"]) != access.user_id:
                raise NotYourToken
            refresh.blacklist()
    if access is not None:
        access_token_denylist_add(jti=access.jti, exp=access.exp)
        if access.session_id:
            outstanding = OutstandingToken.objects.filter(
                jti=access.session_id, user_id=access.user_id
            ).first()
            if outstanding is not None:
                BlacklistedToken.objects.get_or_create(token=outstanding)


@transaction.atomic
def access_token_denylist_add(*, jti: str, exp: int) -> None:
    """Refuse this access token from now on: in Redis, where every service checks it, and in
    the database, where auth checks it while Redis is down.

    The row rolls back when Redis cannot be reached, so the revocation fails loudly instead of
    holding in one place and not the other. Expired rows are pruned here: the table holds no
    more than the tokens revoked within one access-token lifetime.
    """
    RevokedAccessToken.objects.filter(expires_at__lte=timezone.now()).delete()
    RevokedAccessToken.objects.get_or_create(
        jti=jti, defaults={"expires_at": datetime.fromtimestamp(exp, UTC)}
    )
    access_token_revoke(jti=jti, exp=exp)


# --- staff alerts by email ------------------------------------------------------------------


@dataclass(frozen=True)
class StaffAlertsSubscription:
    email: str
    subscribed: bool

    @classmethod
    def of(cls, user: User | None) -> "StaffAlertsSubscription | None":
        if user is None:
            return None
        return cls(user.email, user.is_active and user.is_staff and user.email_staff_alerts)


def staff_alerts_subscription_announce(
    *, user_id: int, before: StaffAlertsSubscription | None, after: StaffAlertsSubscription | None
) -> None:
    """Tell notify where a user's staff alerts go, when a change made a difference to it: they
    opted in or out, became or stopped being active staff, changed address while subscribed, or
    their account went (``after`` None)."""
    subscribed_before = before is not None and before.subscribed
    subscribed_after = after is not None and after.subscribed
    if not (subscribed_before or subscribed_after) or before == after:
        return
    email = (after or before).email
    publish(StaffAlertsSubscriptionChanged(user_id=user_id, email=email, subscribed=subscribed_after))


# --- the user's own account -----------------------------------------------------------------


@transaction.atomic
def user_profile_update(
    *,
    user: User,
    full_name: str | None = None,
    email: str | None = None,
    email_staff_alerts: bool | None = None,
) -> User:
    """The user's name and staff alert emails (theirs to change) or email (staff change it in the admin)."""
    before = StaffAlertsSubscription.of(user)
    user = _profile_apply(user=user, full_name=full_name, email=email, email_staff_alerts=email_staff_alerts)
    staff_alerts_subscription_announce(user_id=user.pk, before=before, after=StaffAlertsSubscription.of(user))
    return user


def _profile_apply(*, user: User, **profile: str | bool | None) -> User:
    changes = {field: value for field, value in profile.items() if value is not None}
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=list(changes))
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str | None) -> User:
    """Set a new password (None: no password works) and revoke every token issued with the old one."""
    user.set_password(password)
    user.save(update_fields=["password"])
    return user_tokens_revoke_all(user=user)


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Email a reset link to the account with this address, if there is an active one and the
    address has an email to spare this hour (``account_email_slot_take``).

    The caller answers the same either way, so the API tells nobody which emails have accounts.
    """
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    if not account_email_slot_take(email=user.email):
        return
    publish(PasswordResetRequested(user_id=user.pk, email=user.email, reset_url=_password_reset_url(user)))


def _password_reset_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    # Django's token covers the password hash and last login: it works once, then expires.
    token = default_token_generator.make_token(user)
    return f"{settings.PUBLIC_BASE_URL}/password-reset/{uid}/{token}/"


@transaction.atomic
def password_reset_complete(*, user: User, password: str) -> User:
    """A new password set through a reset link, which came by email: the address is confirmed too.

    No welcome email: the name on an account its owner takes back this way may be a stranger's
    (someone who registered the address first), and the owner never asked to hear it.
    """
    user = user_password_set(user=user, password=password)
    _email_confirmed_mark(user=user)
    return user


# --- staff changes --------------------------------------------------------------------------


@transaction.atomic
def user_create(*, email: str, password: str | None) -> User:
    """An account staff make in the admin (no welcome email); no password makes an unusable one.

    Its address counts as confirmed: staff vouch for it, and no stranger's text reaches it."""
    user = User.objects.create_user(email=email, password=password, email_confirmed_at=timezone.now())
    user_state_sync(user_id=user.pk)
    return user


def _access_changes(*, actor: StaffActor, user: User, **flags: bool | None) -> dict[str, bool]:
    """The access flags that change, once the rules allow it.

    Only a superuser touches superuser status or a superuser's account, and nobody removes
    their own access (the shell's actor has no account).
    """
    changes = {
        field: value for field, value in flags.items() if value is not None and getattr(user, field) != value
    }
    if changes:
        superuser_change_check(actor=actor, user=user)
        if "is_superuser" in changes and not actor.is_superuser:
            raise SuperuserOnly
    if user.pk == actor.id and (changes.get("is_active") is False or changes.get("is_staff") is False):
        raise CannotChangeYourself
    return changes


def _staff_access_begins(*, user: User, changes: dict[str, bool]) -> bool:
    """Does this change give the account staff access it lacks: made staff, or a staff member made active?"""
    staff_after = changes.get("is_staff", user.is_staff)
    active_after = changes.get("is_active", user.is_active)
    return staff_after and active_after and not (user.is_staff and user.is_active)


def _access_apply(*, user: User, changes: dict[str, bool]) -> User:
    if not changes:
        return user
    for field, value in changes.items():
        setattr(user, field, value)
    user.save(update_fields=list(changes))
    # The user's tokens claim what no longer holds: every one of them is refused.
    return user_tokens_revoke_all(user=user)


def user_credentials_check(*, actor: StaffActor, user: User) -> None:
    """May the actor set this user's password or email? Whoever holds them can act as the user.

    A superuser's are a superuser's to set; another staff member's too, as they may hold
    permissions the actor does not (in any service's admin). Anyone may set their own.
    """
    superuser_change_check(actor=actor, user=user)
    if user.is_staff and user.pk != actor.id and not actor.is_superuser:
        raise StaffCredentialsSuperuserOnly


@transaction.atomic
def user_access_set(
    *,
    user: User,
    actor: StaffActor,
    is_active: bool | None = None,
    is_staff: bool | None = None,
    is_superuser: bool | None = None,
) -> User:
    """Activate, deactivate, grant or remove staff or superuser status.

    Any change revokes the user's tokens: their claims no longer describe them.
    """
    changes = _access_changes(
        actor=actor, user=user, is_active=is_active, is_staff=is_staff, is_superuser=is_superuser
    )
    if _staff_access_begins(user=user, changes=changes):
        staff_access_grant_check(actor=actor, user=user)
        roles_grant_check(actor=actor, roles=user.roles.values_list("slug", flat=True))
    before = StaffAlertsSubscription.of(user)
    user = _access_apply(user=user, changes=changes)
    staff_alerts_subscription_announce(user_id=user.pk, before=before, after=StaffAlertsSubscription.of(user))
    return user


@transaction.atomic
def user_change(
    *,
    actor: StaffActor,
    user: User,
    email: str | None = None,
    full_name: str | None = None,
    email_staff_alerts: bool | None = None,
    is_active: bool | None = None,
    is_staff: bool | None = None,
    is_superuser: bool | None = None,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
    roles: Iterable[Role] | None = None,
) -> User:
    """A staff member's change to an account (the users admin's form, the staff users API):
    every rule, then every change.

    Nothing is written before every rule has passed, so a refusal leaves no standing in Redis
    that the rolled-back change no longer backs. The rules are ``_access_changes``'s,
    ``user_credentials_check``'s for the email, and ``edge.grants``' for groups, permissions and
    roles. A role granted arrives with the user's next token; a role removed revokes their tokens,
    as removing staff status does, so that no admin obeys it a moment longer.
    """
    profile = {
        field: value
        for field, value in (
            ("email", email),
            ("full_name", full_name),
            ("email_staff_alerts", email_staff_alerts),
        )
        if value is not None and getattr(user, field) != value
    }
    if profile:
        superuser_change_check(actor=actor, user=user)
    if "email" in profile:
        user_credentials_check(actor=actor, user=user)
    changes = _access_changes(
        actor=actor, user=user, is_active=is_active, is_staff=is_staff, is_superuser=is_superuser
    )
    groups = list(groups) if groups is not None else None
    permissions = list(permissions) if permissions is not None else None
    grants_check(actor=actor, user=user, groups=groups, permissions=permissions)
    held_roles = set(user.roles.values_list("slug", flat=True))
    roles_after = {role.slug for role in roles} if roles is not None else held_roles
    if roles_after != held_roles:
        superuser_change_check(actor=actor, user=user)
        roles_grant_check(actor=actor, roles=roles_after - held_roles)
    if _staff_access_begins(user=user, changes=changes):
        staff_access_grant_check(actor=actor, user=user, groups=groups, permissions=permissions)
        # Roles stored on the account come into force with its staff access.
        roles_grant_check(actor=actor, roles=roles_after)
    before = StaffAlertsSubscription.of(user)
    user = user_grants_set(actor=actor, user=user, groups=groups, permissions=permissions)
    user = _profile_apply(user=user, **profile)
    if roles_after != held_roles:
        user.roles.set(Role.objects.filter(slug__in=roles_after))
    user = _access_apply(user=user, changes=changes)
    if held_roles - roles_after and not changes:
        user = user_tokens_revoke_all(user=user)
    staff_alerts_subscription_announce(user_id=user.pk, before=before, after=StaffAlertsSubscription.of(user))
    return user


def roles_sync(*, role_model: type[Role] = Role, using: str = "default") -> None:
    """Make the roles in the database those of ``edge.roles.ROLES``, with their names and
    descriptions. A role gone from the vocabulary keeps its row and holders, and gives nothing:
    no service may declare permissions for it (``edge.checks``)."""
    for role in ROLES.values():
        role_model._default_manager.using(using).update_or_create(
            slug=role.slug, defaults={"name": role.name, "description": role.description}
        )


@transaction.atomic
def user_delete(*, user: User, actor: StaffActor) -> None:
    superuser_change_check(actor=actor, user=user)
    user_id = user.pk
    before = StaffAlertsSubscription.of(user)
    user.delete()
    user_state_sync(user_id=user_id)
    staff_alerts_subscription_announce(user_id=user_id, before=before, after=None)


# --- login attempts -------------------------------------------------------------------------


@contextmanager
def login_attempt(*, email: str, client: str, failure: type[Exception]) -> Iterator[None]:
    """Guard one password check of ``email``'s account from the address ``client``: the login
    page, the token endpoint and the password change's old password all use it.

    Refused with ``LoginDelayed`` while a delay runs for this account at this address, or for
    this address (``accounts.throttling``), before the password is checked, so a guess sent
    then teaches nothing. The check inside the block fails by raising ``failure``, which is
    raised again, or ``LoginDelayed`` once that failure makes the next attempt wait. A check
    that passes forgets the account's failures at this address.
    """
    attempt = login_attempt_count(email=email, client=client)
    if not attempt.allowed:
        raise LoginDelayed(seconds=attempt.wait_seconds)
    try:
        yield
    except failure as error:
        if attempt.wait_seconds:
            raise LoginDelayed(seconds=attempt.wait_seconds) from error
        raise
    login_attempt_forget(email=email, client=client)
