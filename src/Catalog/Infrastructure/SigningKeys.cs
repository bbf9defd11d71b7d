using TorrentEdge.ServiceDefaults.Hosting;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.Tokens;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>The EC P-256 key that signs access tokens, and its public half as a JWKS.</summary>
public sealed class SigningKeys : IDisposable
{
    public const string DevelopmentKeyFile = "catalog-signing-key.pem";

    private readonly ECDsa _key;

    public SigningKeys(ECDsa key)
    {
        _key = key;
        var parameters = key.ExportParameters(includePrivateParameters: false);
        if (parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new InvalidOperationException("The signing key must be an EC P-256 key (ES256).");
        }
        var x = Base64UrlEncoder.Encode(parameters.Q.X);
        var y = Base64UrlEncoder.Encode(parameters.Q.Y);
        // RFC 7638 thumbprint: the key id changes exactly when the key does.
        var canonical = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{x}\",\"y\":\"{y}\"}}";
        KeyId = Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical)));
        SecurityKey = new ECDsaSecurityKey(key) { KeyId = KeyId };
        PublicKey = new ECDsaSecurityKey(ECDsa.Create(parameters)) { KeyId = KeyId };
        SigningCredentials = new SigningCredentials(SecurityKey, SecurityAlgorithms.EcdsaSha256);
        Jwks = new JwksDocument([new JwkDocument("EC", "sig", SecurityAlgorithms.EcdsaSha256, KeyId, "P-256", x, y)]);
    }

    public string KeyId { get; }
    public ECDsaSecurityKey SecurityKey { get; }

    /// <summary>The public key alone: what validation needs.</summary>
    public ECDsaSecurityKey PublicKey { get; }
    public SigningCredentials SigningCredentials { get; }
    public JwksDocument Jwks { get; }

    /// <summary>
    /// Loads the key from <c>Auth:SigningKey</c> (PEM) or <c>Auth:SigningKeyPath</c>; in Development, when neither
    /// is set, generates one and keeps it under <paramref name="dataDirectory"/> so tokens survive restarts.
    /// Elsewhere a missing key stops the service: silently generated keys would log everyone out on every restart
    /// and differ between replicas.
    /// </summary>
    public static SigningKeys Load(AuthOptions options, bool isDevelopment, string dataDirectory)
    {
        string? pem = options.SigningKey;
        if (string.IsNullOrWhiteSpace(pem) && !string.IsNullOrWhiteSpace(options.SigningKeyPath))
        {
            pem = File.ReadAllText(options.SigningKeyPath);
        }
        if (string.IsNullOrWhiteSpace(pem))
        {
            if (!isDevelopment)
            {
                throw new InvalidOperationException(
                    "No token signing key: set Auth:SigningKey (PEM of an EC P-256 private key) or Auth:SigningKeyPath. "
                    + "Create one with: openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt");
            }
            var path = Path.Combine(dataDirectory, DevelopmentKeyFile);
            if (File.Exists(path))
            {
                pem = File.ReadAllText(path);
            }
            else
            {
                Directory.CreateDirectory(dataDirectory);
                using var generated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                // The marker (text outside the PEM block, which the importer skips) lets every service refuse this key
                // outside Development, wherever it is copied to (ProductionGuard).
                pem = $"{ProductionGuard.DevelopmentKeyMarker}: never use it outside Development.{Environment.NewLine}"
                    + generated.ExportPkcs8PrivateKeyPem();
                File.WriteAllText(path, pem);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
        }
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (ArgumentException e)
        {
            key.Dispose();
            throw new InvalidOperationException("Auth:SigningKey is not a PEM-encoded EC private key.", e);
        }
        return new SigningKeys(key);
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>A JSON Web Key Set (RFC 7517) holding public keys only.</summary>
public sealed record JwksDocument([property: JsonPropertyName("keys")] IReadOnlyList<JwkDocument> Keys);

/// <summary>One public EC key in JWK form.</summary>
public sealed record JwkDocument(
    [property: JsonPropertyName("kty")] string Kty,
    [property: JsonPropertyName("use")] string Use,
    [property: JsonPropertyName("alg")] string Alg,
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("crv")] string Crv,
    [property: JsonPropertyName("x")] string X,
    [property: JsonPropertyName("y")] string Y);
