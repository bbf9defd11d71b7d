namespace TorrentEdge.Engine.Encryption;

/// <summary>Whether peer connections use message stream encryption (MSE/PE).</summary>
public enum EncryptionPolicy
{
    /// <summary>Dial encrypted and fall back to plaintext when the peer does not answer it; accept both.</summary>
    Prefer,
    /// <summary>Only encrypted (RC4) connections, in and out; plaintext peers are refused.</summary>
    Require,
    /// <summary>Only plaintext connections; encrypted handshakes are refused.</summary>
    Disable,
}

/// <summary>The payload ciphers of MSE's crypto_provide and crypto_select fields.</summary>
[Flags]
public enum CryptoMethods : uint
{
    None = 0,
    /// <summary>After the encrypted handshake the payload flows unencrypted.</summary>
    Plaintext = 0x01,
    /// <summary>RC4 over the whole payload.</summary>
    Rc4 = 0x02,
}

/// <summary>Parses and names policies as the CLI and configuration spell them (prefer, require, disable).</summary>
public static class EncryptionPolicies
{
    public static bool TryParse(string? value, out EncryptionPolicy policy)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "prefer" or "enabled" or "allow":
                policy = EncryptionPolicy.Prefer;
                return true;
            case "require" or "required" or "forced":
                policy = EncryptionPolicy.Require;
                return true;
            case "disable" or "disabled" or "off":
                policy = EncryptionPolicy.Disable;
                return true;
            default:
                policy = default;
                return false;
        }
    }

    public static string ToName(this EncryptionPolicy policy) => policy switch
    {
        EncryptionPolicy.Prefer => "prefer",
        EncryptionPolicy.Require => "require",
        EncryptionPolicy.Disable => "disable",
        _ => throw new ArgumentOutOfRangeException(nameof(policy)),
    };

    /// <summary>What an initiator offers in crypto_provide under a policy (nothing: do not try MSE).</summary>
    public static CryptoMethods Offered(this EncryptionPolicy policy) => policy switch
    {
        EncryptionPolicy.Prefer => CryptoMethods.Rc4 | CryptoMethods.Plaintext,
        EncryptionPolicy.Require => CryptoMethods.Rc4,
        _ => CryptoMethods.None,
    };

    /// <summary>What a responder picks from a peer's crypto_provide under a policy (None: refuse the peer).</summary>
    public static CryptoMethods Select(this EncryptionPolicy policy, CryptoMethods provided)
    {
        if (policy == EncryptionPolicy.Disable) return CryptoMethods.None;
        if ((provided & CryptoMethods.Rc4) != 0) return CryptoMethods.Rc4;
        return policy == EncryptionPolicy.Prefer && (provided & CryptoMethods.Plaintext) != 0 ? CryptoMethods.Plaintext : CryptoMethods.None;
    }
}
