namespace TorrentEdge.Contracts.Users;

/// <summary>
/// Whether a user may use the suite, and in which role: published by Catalog to <see cref="Topics.Users"/> keyed by user id
/// whenever an admin disables, enables or changes the role of an account (and for every account at Catalog's start).
/// The topic is compacted: the latest record per user is that user's status.
/// </summary>
/// <param name="UserId">The account's id, the <c>sub</c> of its access tokens.</param>
/// <param name="Disabled">True: every token of the user is refused and open hub connections are closed.</param>
/// <param name="Role">The role as stored; a token naming another role is refused (the client refreshes for a new one).</param>
/// <param name="Version">When Catalog read this status (Unix milliseconds); a reader keeps the highest, so a stale
/// status published late by another Catalog replica cannot undo a newer one.</param>
public sealed record UserAccessChanged(string UserId, bool Disabled, string Role, long Version) : IntegrationEvent;
