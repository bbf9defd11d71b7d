using Microsoft.AspNetCore.Http.HttpResults;

namespace TorrentEdge.Catalog.Apis;

/// <summary>RFC 7807 problem responses with a clear title and detail.</summary>
internal static class Problems
{
    public static ProblemHttpResult BadRequest(string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: title, extensions: extensions);

    public static ProblemHttpResult Unauthorized(string title, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: title);

    public static ProblemHttpResult Forbidden(string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: title, extensions: extensions);

    public static ProblemHttpResult NotFound(string title, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: title);

    public static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: title);

    public static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem($"The body is larger than the limit of {limit} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Request body too large");

    public static ProblemHttpResult UnsupportedMediaType(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type");
}
