namespace PeftOnnx.Models.Hub;

/// <summary>
/// One file of a Hub revision as the API lists it: its size, and what it must hash to: the LFS sha256 for large
/// files, the git blob id (sha1 of "blob SIZE\0" + content) for small ones.
/// </summary>
public sealed record HubFile(string Path, long Size, string? Sha256, string? GitBlobId);
