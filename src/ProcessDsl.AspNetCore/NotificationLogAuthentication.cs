using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ProcessDsl.AspNetCore;

/// <summary>
/// The bearer-token scheme of notification-log endpoints: <c>Authorization: Bearer TOKEN</c>,
/// compared in constant time with the token of the endpoint's <see cref="NotificationLogEndpointOptions.BearerToken"/>.
/// A missing or wrong token is challenged with <c>401</c>, <c>WWW-Authenticate: Bearer realm="notification-logs"</c>
/// (with <c>error="invalid_token"</c> for a wrong one) and a problem+json body.
/// </summary>
public static class NotificationLogAuthentication
{
    /// <summary>The name of the authentication scheme.</summary>
    public const string Scheme = "NotificationLogBearer";

    private const string Realm = "Bearer realm=\"notification-logs\"";

    /// <summary>The policy an endpoint with a bearer token requires: an identity from this scheme.</summary>
    internal static AuthorizationPolicy Policy { get; } = new AuthorizationPolicyBuilder(Scheme).RequireAuthenticatedUser().Build();

    /// <summary>The token an endpoint accepts (its SHA-256), as endpoint metadata.</summary>
    internal sealed class Token(string token)
    {
        public byte[] Hash { get; } = SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>Checks the token against the endpoint's; challenges as the endpoints always have.</summary>
    internal sealed class Handler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Context.GetEndpoint()?.Metadata.GetMetadata<Token>() is not { } expected)
                return Task.FromResult(AuthenticateResult.NoResult());
            var header = Request.Headers.Authorization;
            if (header.Count != 1) return Task.FromResult(AuthenticateResult.NoResult());
            var value = header[0].AsSpan().Trim();
            const string Bearer = "Bearer ";
            if (!value.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase)) return Task.FromResult(AuthenticateResult.NoResult());
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(Encoding.UTF8.GetBytes(value[Bearer.Length..].Trim().ToString()), hash);
            // Hashes of equal length compared in constant time: neither the token nor its length leaks.
            if (!CryptographicOperations.FixedTimeEquals(hash, expected.Hash))
                return Task.FromResult(AuthenticateResult.Fail("The bearer token is not the one this endpoint accepts."));
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "notification-log reader")], Scheme.Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
        }

        protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
            Response.Headers.WWWAuthenticate = result.Failure is null ? Realm : Realm + ", error=\"invalid_token\"";
            await Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized,
                "A valid bearer token is required: send 'Authorization: Bearer <token>'.").ConfigureAwait(false);
        }
    }
}
