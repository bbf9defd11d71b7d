using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Model;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.Apis;

/// <summary>An admin's change made while a log-in is between reading the account and writing it back survives the log-in.</summary>
public sealed class LoginRaceTests : IAsyncLifetime
{
    private readonly GatedHasher _hasher = new();
    private GatedFactory _factory = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _factory = new GatedFactory(_hasher);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Login_AdminDisablesDuringLogin_StaysDisabledAndLoginRefused()
    {
        var admin = await _factory.AdminAsync();
        await _factory.UserAsync("victim");
        var id = await IdOfAsync(admin, "victim");

        var (login, response) = await DuringLoginAsync("victim", async () =>
            await IsAsync<UserView>(await admin.PostAsync($"/api/admin/users/{id}/disable", null, Ct), HttpStatusCode.OK));

        Assert.True(response.Disabled);
        await IsProblemAsync(login, HttpStatusCode.Forbidden, "Account disabled");
        Assert.True((await UserAsync(admin, "victim")).Disabled);
    }

    [Fact]
    public async Task Login_AdminDemotesDuringLogin_StaysDemotedAndTokenCarriesNewRole()
    {
        var admin = await _factory.AdminAsync();
        await _factory.UserAsync("deputy");
        var id = await IdOfAsync(admin, "deputy");
        await IsAsync<UserView>(await admin.PutAsJsonAsync($"/api/admin/users/{id}/role", new { role = "admin" }, Ct), HttpStatusCode.OK);

        var (login, _) = await DuringLoginAsync("deputy", async () =>
            await IsAsync<UserView>(await admin.PutAsJsonAsync($"/api/admin/users/{id}/role", new { role = "user" }, Ct), HttpStatusCode.OK));

        var tokens = await IsAsync<TokenResponse>(login, HttpStatusCode.OK);
        Assert.Equal(Roles.User, new JsonWebToken(tokens.AccessToken).GetClaim("role").Value);
        Assert.Equal(Roles.User, (await UserAsync(admin, "deputy")).Role);
    }

    /// <summary>Starts a log-in, runs <paramref name="change"/> while the log-in is checking the password, then lets it finish.</summary>
    private async Task<(HttpResponseMessage Login, T Change)> DuringLoginAsync<T>(string username, Func<Task<T>> change)
    {
        var entered = _hasher.Arm(username);
        var login = _factory.CreateClient().PostAsJsonAsync("/api/auth/login", new { username, password = CatalogFactory.Password }, Ct);
        await entered.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        T result;
        try
        {
            result = await change();
        }
        finally
        {
            _hasher.Release();
        }
        return (await login, result);
    }

    private static async Task<UserView> UserAsync(HttpClient admin, string username) =>
        (await IsAsync<List<UserView>>(await admin.GetAsync("/api/admin/users", Ct), HttpStatusCode.OK)).Single(u => u.Username == username);

    private static async Task<string> IdOfAsync(HttpClient admin, string username) => (await UserAsync(admin, username)).Id;

    /// <summary>The real hasher, which holds a log-in of the armed user inside the password check until released.</summary>
    private sealed class GatedHasher : IPasswordHasher<User>
    {
        private readonly PasswordHasher<User> _inner = new();
        private volatile string? _armedFor;
        private TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _release = new(initialState: true);

        public Task Arm(string username)
        {
            _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _release.Reset();
            _armedFor = username;
            return _entered.Task;
        }

        public void Release() => _release.Set();

        public string HashPassword(User user, string password) => _inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(User user, string hashedPassword, string providedPassword)
        {
            var result = _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
            if (_armedFor is { } armed && user.UserName == armed)
            {
                _armedFor = null;
                _entered.TrySetResult();
                _release.Wait(TimeSpan.FromSeconds(30));
            }
            return result;
        }
    }

    private sealed class GatedFactory(GatedHasher hasher) : CatalogFactory
    {
        protected override void Configure(IWebHostBuilder builder) =>
            builder.ConfigureTestServices(services => services.AddSingleton<IPasswordHasher<User>>(hasher));
    }
}
