using System.Globalization;
using Microsoft.Playwright;

namespace TorrentEdge.WebUi.Tests.Support;

/// <summary>The web UI as a person uses it: by labels and roles (what a screen reader announces), never by CSS classes.</summary>
public sealed class WebUiPage(IPage page, string artifacts, string who)
{
    private int _shot;

    public IPage Page => page;

    public async Task OpenAsync(Uri gateway) => await page.GotoAsync(gateway.ToString());

    public async Task RegisterAsync(string user, string password)
    {
        await page.GetByRole(AriaRole.Tab, new() { Name = "Register" }).ClickAsync();
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await SignedInAsync();
    }

    public async Task LogInAsync(string user, string password)
    {
        await page.GetByRole(AriaRole.Tab, new() { Name = "Log in" }).ClickAsync();
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await SignedInAsync();
    }

    public async Task LogOutAsync()
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).WaitForAsync();
    }

    public Task SignedInAsync() => page.GetByRole(AriaRole.Link, new() { Name = "Torrents" }).WaitForAsync(new() { Timeout = 20_000 });

    public async Task AddMagnetAsync(string magnet, bool paused = false, string? category = null, string? tags = null)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Add torrent" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Magnet links (one per line)").FillAsync(magnet);
        if (category is not null)
        {
            await dialog.GetByLabel("Category").FillAsync(category);
        }
        if (tags is not null)
        {
            await dialog.GetByLabel("Tags").FillAsync(tags);
        }
        if (paused)
        {
            await dialog.GetByLabel("Start paused").CheckAsync();
        }
        var add = dialog.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true });
        await add.ClickAsync();
        // Added: the dialog closes, or (a magnet without metadata yet) offers to choose its files when it arrives.
        await add.WaitForAsync(new() { State = WaitForSelectorState.Hidden, Timeout = 15_000 });
        var close = dialog.GetByRole(AriaRole.Button, new() { Name = "Close" });
        if (await close.IsVisibleAsync())
        {
            await close.ClickAsync();
        }
        await dialog.WaitForAsync(new() { State = WaitForSelectorState.Hidden });
    }

    public ILocator Row(string infoHash) => page.Locator($"[role=row][data-hash='{infoHash}']");

    public async Task<double?> ProgressAsync(string infoHash)
    {
        var bar = Row(infoHash).GetByRole(AriaRole.Progressbar);
        if (await bar.CountAsync() == 0)
        {
            return null;
        }
        var now = await bar.GetAttributeAsync("aria-valuenow", new() { Timeout = 2_000 });
        return now is null ? null : double.Parse(now, CultureInfo.InvariantCulture);
    }

    public async Task<string> ShotAsync(string step)
    {
        var path = Path.Combine(artifacts, $"{who}-{++_shot:00}-{step}.png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        return path;
    }
}
