using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using TorrentEdge.Catalog.Infrastructure;

namespace TorrentEdge.Catalog.Apis.Transmission;

/// <summary>
/// Transmission's CSRF token (<c>X-Transmission-Session-Id</c>), per user: an HMAC of the user id under a key derived from
/// Catalog's signing key, so every Catalog replica computes the same value without storing anything, and no other site
/// can guess it.
/// </summary>
public sealed class TransmissionSession
{
    private readonly byte[] _key;

    public TransmissionSession(SigningKeys keys)
    {
        var secret = keys.SecurityKey.ECDsa?.ExportParameters(includePrivateParameters: true).D
            ?? throw new InvalidOperationException("The signing key has no private part.");
        _key = HMACSHA256.HashData(secret, "torrentedge/transmission-session-id"u8);
    }

    public string For(string userId) =>
        Base64UrlEncoder.Encode(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(userId)))[..32];

    /// <summary>Constant-time comparison of what the client sent with the user's session id.</summary>
    public bool Matches(string userId, string? given) =>
        given is { Length: 32 } && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(For(userId)), Encoding.ASCII.GetBytes(given));
}
