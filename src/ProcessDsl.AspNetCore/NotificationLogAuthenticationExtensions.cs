using Microsoft.AspNetCore.Authentication;
using ProcessDsl.AspNetCore;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the bearer-token scheme of notification-log endpoints.</summary>
public static class NotificationLogAuthenticationExtensions
{
    /// <summary>
    /// Adds authentication with the <see cref="NotificationLogAuthentication.Scheme"/> scheme and
    /// authorization, which <c>MapNotificationLogs</c>
    /// uses for <see cref="NotificationLogEndpointOptions.BearerToken"/>. Call it before the
    /// application is built; with other schemes of your own, require them on the returned route group instead.
    /// </summary>
    public static IServiceCollection AddNotificationLogAuthentication(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, NotificationLogAuthentication.Handler>(NotificationLogAuthentication.Scheme, displayName: "Notification-log bearer token", _ => { });
        services.AddAuthorization();
        return services;
    }
}
