package dev.vmonboard.k8s;

import io.fabric8.kubernetes.api.model.APIGroup;
import io.fabric8.kubernetes.api.model.APIGroupBuilder;
import io.fabric8.kubernetes.api.model.APIGroupList;
import io.fabric8.kubernetes.api.model.APIGroupListBuilder;
import io.fabric8.kubernetes.api.model.APIResourceBuilder;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.APIResourceListBuilder;
import io.fabric8.kubernetes.api.model.GroupVersionForDiscovery;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionList;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestStatus;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.internal.SimpleRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The request handling of the embedded cluster: fabric8's CRUD store, plus what a real API server
 * does that the store does not.
 *
 * <ul>
 *   <li>Expectations set on the mock server win over everything else (tests use them to inject
 *       failures).
 *   <li>The TokenRequest API mints a signed token for a ServiceAccount that exists and answers 404
 *       for one that does not; lifetimes below ten minutes are refused as a real server does, and a
 *       configured maximum caps longer ones.
 *   <li>API discovery ({@code /apis}, {@code /apis/<group>}, {@code /apis/<group>/<version>})
 *       answers from the CustomResourceDefinitions in the store.
 *   <li>Custom resources are served at every version their CRD serves and stored at its storage
 *       version, so an object written as {@code v1beta1} reads back as {@code v1}; versions the CRD
 *       does not serve answer 404.
 * </ul>
 */
final class EmbeddedApiServer extends KubernetesMixedDispatcher {

  static final String CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
  static final int MIN_TOKEN_SECONDS = 600;
  static final long DEFAULT_TOKEN_SECONDS = 3600;

  private static final Pattern TOKEN_PATH =
      Pattern.compile("/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)/token");
  private static final Pattern GROUP_PATH =
      Pattern.compile("/apis/([^/]+)(?:/([^/]+))?((?:/namespaces/[^/]+)?/([^/]+)(?:/.*)?)?");

  private final Map<ServerRequest, Queue<ServerResponse>> expectations;
  private final TokenMinter minter;
  private final Duration maxTokenLifetime;
  private final KubernetesSerialization json;
  private final Clock clock;
  private final List<String> requestLog = new CopyOnWriteArrayList<>();
  private final List<String[]> userAgents = new CopyOnWriteArrayList<>();

  /**
   * The CRDs in the store, read once and again after any write to them: every custom-resource
   * request consults them, and reading them from the store is a scan of every stored object.
   */
  private volatile List<CustomResourceDefinition> crds;

  EmbeddedApiServer(
      Map<ServerRequest, Queue<ServerResponse>> expectations,
      TokenMinter minter,
      Duration maxTokenLifetime,
      KubernetesSerialization json,
      Clock clock) {
    super(expectations);
    this.expectations = expectations;
    this.minter = minter;
    this.maxTokenLifetime = maxTokenLifetime;
    this.json = json;
    this.clock = clock;
  }

  /** Every request received, as {@code METHOD path?query}, oldest first. */
  List<String> requestLog() {
    return List.copyOf(requestLog);
  }

  /** The requests whose User-Agent starts with {@code userAgent}, as {@link #requestLog()}. */
  List<String> requestLog(String userAgent) {
    return userAgents.stream()
        .filter(entry -> entry[0] != null && entry[0].startsWith(userAgent))
        .map(entry -> entry[1])
        .toList();
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String line = request.getMethod() + " " + request.getPath();
    requestLog.add(line);
    userAgents.add(new String[] {request.getHeader("User-Agent"), line});
    try {
      return route(request);
    } catch (RuntimeException e) {
      // A real API server answers 500 instead of leaving the client waiting for its timeout.
      return status(500, "InternalError", "embedded cluster: " + e, null, null);
    }
  }

  private MockResponse route(RecordedRequest request) {
    String path = request.getPath();
    if (path.startsWith(CRD_PATH) && request.method() != HttpMethod.GET) {
      crds = null;
      try {
        return super.dispatch(request);
      } finally {
        crds = null;
      }
    }
    if (isExpected(request)) {
      return super.dispatch(request);
    }
    String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
    Matcher token = TOKEN_PATH.matcher(bare);
    if (token.matches() && request.method() == HttpMethod.POST) {
      return mintToken(request, token.group(1), token.group(2));
    }
    if (bare.equals("/apis") && request.method() == HttpMethod.GET) {
      return ok(groupList(customResourceDefinitions()));
    }
    Matcher api = GROUP_PATH.matcher(bare);
    if (api.matches()) {
      List<CustomResourceDefinition> crds = customResourceDefinitions(api.group(1));
      if (!crds.isEmpty()) {
        return dispatchCustomResource(request, api, crds);
      }
    }
    return super.dispatch(request);
  }

  private boolean isExpected(RecordedRequest request) {
    Queue<ServerResponse> queue =
        expectations.get(new SimpleRequest(request.method(), request.getPath()));
    return queue != null && !queue.isEmpty();
  }

  private MockResponse dispatchCustomResource(
      RecordedRequest request, Matcher api, List<CustomResourceDefinition> crds) {
    String group = api.group(1);
    String version = api.group(2);
    if (version == null) {
      return request.method() == HttpMethod.GET ? ok(apiGroup(group, crds)) : notAllowed();
    }
    if (api.group(3) == null) {
      return request.method() == HttpMethod.GET
          ? resourceList(group, version, crds).map(this::ok).orElseGet(this::notFound)
          : notAllowed();
    }
    String plural = api.group(4);
    Optional<CustomResourceDefinition> crd =
        crds.stream().filter(c -> c.getSpec().getNames().getPlural().equals(plural)).findFirst();
    if (crd.isEmpty()) {
      return notFound();
    }
    if (served(crd.get()).noneMatch(v -> v.getName().equals(version))) {
      return notFound();
    }
    String storage = storageVersion(crd.get());
    if (storage.equals(version)) {
      return super.dispatch(request);
    }
    String prefix = "/apis/" + group + "/";
    String storedPath =
        prefix + storage + request.getPath().substring(prefix.length() + version.length());
    String body = request.getBody() == null ? "" : request.getBody().readUtf8();
    Buffer storedBody = new Buffer();
    if (!body.isEmpty()) {
      storedBody.writeUtf8(withApiVersion(body, group, group + "/" + storage));
    }
    RecordedRequest stored =
        new RecordedRequest(
            request.getMethod() + " " + storedPath + " HTTP/1.1",
            request.method(),
            storedPath,
            request.getHeaders(),
            storedBody);
    MockResponse response = super.dispatch(stored);
    Buffer answer = response.getBody();
    if (answer != null && answer.size() > 0) {
      String text = new String(answer.getBytes(), StandardCharsets.UTF_8);
      response.setBody(withApiVersion(text, group, group + "/" + version));
    }
    return response;
  }

  /** Replaces the apiVersion of every object of {@code group} in a JSON document. */
  private String withApiVersion(String document, String group, String apiVersion) {
    JsonNode root;
    try {
      root = json.unmarshal(document, JsonNode.class);
    } catch (RuntimeException notJson) {
      return document;
    }
    if (root == null || !root.isObject()) {
      return document;
    }
    setApiVersion((ObjectNode) root, group, apiVersion);
    JsonNode items = root.get("items");
    if (items != null && items.isArray()) {
      for (JsonNode item : items) {
        if (item.isObject()) {
          setApiVersion((ObjectNode) item, group, apiVersion);
        }
      }
    }
    return json.asJson(root);
  }

  private static void setApiVersion(ObjectNode node, String group, String apiVersion) {
    JsonNode current = node.get("apiVersion");
    if (current != null && current.isString() && current.asString().startsWith(group + "/")) {
      node.put("apiVersion", apiVersion);
    }
  }

  private MockResponse mintToken(RecordedRequest request, String namespace, String name) {
    MockResponse account =
        super.dispatch(get("/api/v1/namespaces/" + namespace + "/serviceaccounts/" + name));
    if (account.code() != 200) {
      return status(
          404, "NotFound", "serviceaccounts \"" + name + "\" not found", "serviceaccounts", name);
    }
    ServiceAccount serviceAccount =
        json.unmarshal(
            new String(account.getBody().getBytes(), StandardCharsets.UTF_8), ServiceAccount.class);
    TokenRequest asked = json.unmarshal(request.getBody().readUtf8(), TokenRequest.class);
    Long requested = asked.getSpec() == null ? null : asked.getSpec().getExpirationSeconds();
    long seconds = requested == null ? DEFAULT_TOKEN_SECONDS : requested;
    if (seconds < MIN_TOKEN_SECONDS) {
      return status(
          422,
          "Invalid",
          "TokenRequest.authentication.k8s.io \""
              + name
              + "\" is invalid: spec.expirationSeconds: Invalid value: "
              + seconds
              + ": may not specify a duration less than 10 minutes",
          "serviceaccounts",
          name);
    }
    if (maxTokenLifetime != null) {
      seconds = Math.min(seconds, maxTokenLifetime.toSeconds());
    }
    List<String> audiences =
        asked.getSpec() == null || asked.getSpec().getAudiences().isEmpty()
            ? List.of(TokenMinter.ISSUER)
            : List.copyOf(asked.getSpec().getAudiences());
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant expiry = now.plusSeconds(seconds);
    String token =
        minter.mint(namespace, name, serviceAccount.getMetadata().getUid(), audiences, now, expiry);
    if (asked.getMetadata() == null) {
      asked.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
    }
    asked.setApiVersion("authentication.k8s.io/v1");
    asked.setKind("TokenRequest");
    asked.getMetadata().setName(name);
    asked.getMetadata().setNamespace(namespace);
    asked.getMetadata().setCreationTimestamp(now.toString());
    asked.getSpec().setAudiences(audiences);
    asked.getSpec().setExpirationSeconds(seconds);
    asked.setStatus(new TokenRequestStatus(expiry.toString(), token));
    return new MockResponse().setResponseCode(201).setBody(json.asJson(asked));
  }

  private List<CustomResourceDefinition> customResourceDefinitions() {
    List<CustomResourceDefinition> known = crds;
    if (known != null) {
      return known;
    }
    MockResponse answer = super.dispatch(get(CRD_PATH));
    if (answer.code() != 200) {
      return List.of();
    }
    known =
        List.copyOf(
            json.unmarshal(
                    new String(answer.getBody().getBytes(), StandardCharsets.UTF_8),
                    CustomResourceDefinitionList.class)
                .getItems());
    crds = known;
    return known;
  }

  private List<CustomResourceDefinition> customResourceDefinitions(String group) {
    if (group.equals("apiextensions.k8s.io")) {
      return List.of();
    }
    List<CustomResourceDefinition> crds = new ArrayList<>();
    for (CustomResourceDefinition crd : customResourceDefinitions()) {
      if (crd.getSpec() != null && group.equals(crd.getSpec().getGroup())) {
        crds.add(crd);
      }
    }
    return crds;
  }

  private static java.util.stream.Stream<CustomResourceDefinitionVersion> served(
      CustomResourceDefinition crd) {
    return crd.getSpec().getVersions().stream().filter(v -> Boolean.TRUE.equals(v.getServed()));
  }

  private static String storageVersion(CustomResourceDefinition crd) {
    return crd.getSpec().getVersions().stream()
        .filter(v -> Boolean.TRUE.equals(v.getStorage()))
        .map(CustomResourceDefinitionVersion::getName)
        .findFirst()
        .orElseGet(() -> served(crd).findFirst().orElseThrow().getName());
  }

  /** The versions of {@code crds}, newest (by Kubernetes version priority) first. */
  private static List<String> servedVersions(List<CustomResourceDefinition> crds) {
    return crds.stream()
        .flatMap(EmbeddedApiServer::served)
        .map(CustomResourceDefinitionVersion::getName)
        .distinct()
        .sorted(Comparator.comparing(KubeVersions::priority).reversed())
        .toList();
  }

  private static APIGroupList groupList(List<CustomResourceDefinition> crds) {
    Map<String, List<CustomResourceDefinition>> byGroup = new LinkedHashMap<>();
    for (CustomResourceDefinition crd : crds) {
      byGroup.computeIfAbsent(crd.getSpec().getGroup(), g -> new ArrayList<>()).add(crd);
    }
    APIGroupListBuilder list = new APIGroupListBuilder();
    byGroup.forEach((group, groupCrds) -> list.addToGroups(apiGroup(group, groupCrds)));
    return list.build();
  }

  private static APIGroup apiGroup(String group, List<CustomResourceDefinition> crds) {
    List<GroupVersionForDiscovery> versions = new ArrayList<>();
    for (String version : servedVersions(crds)) {
      versions.add(new GroupVersionForDiscovery(group + "/" + version, version));
    }
    return new APIGroupBuilder()
        .withName(group)
        .withVersions(versions)
        .withPreferredVersion(versions.isEmpty() ? null : versions.get(0))
        .build();
  }

  private static Optional<APIResourceList> resourceList(
      String group, String version, List<CustomResourceDefinition> crds) {
    APIResourceListBuilder list =
        new APIResourceListBuilder().withGroupVersion(group + "/" + version);
    boolean any = false;
    for (CustomResourceDefinition crd : crds) {
      if (served(crd).anyMatch(v -> v.getName().equals(version))) {
        any = true;
        list.addToResources(
            new APIResourceBuilder()
                .withName(crd.getSpec().getNames().getPlural())
                .withSingularName(crd.getSpec().getNames().getSingular())
                .withKind(crd.getSpec().getNames().getKind())
                .withNamespaced("Namespaced".equals(crd.getSpec().getScope()))
                .withVerbs(
                    "create",
                    "delete",
                    "deletecollection",
                    "get",
                    "list",
                    "patch",
                    "update",
                    "watch")
                .build());
      }
    }
    return any ? Optional.of(list.build()) : Optional.empty();
  }

  private static RecordedRequest get(String path) {
    return new RecordedRequest(
        "GET " + path + " HTTP/1.1",
        HttpMethod.GET,
        path,
        io.fabric8.mockwebserver.http.Headers.builder().build(),
        new Buffer());
  }

  private MockResponse ok(Object body) {
    return new MockResponse().setResponseCode(200).setBody(json.asJson(body));
  }

  private MockResponse notFound() {
    return status(404, "NotFound", "the server could not find the requested resource", null, null);
  }

  private MockResponse notAllowed() {
    return status(405, "MethodNotAllowed", "the server does not allow this method", null, null);
  }

  private MockResponse status(int code, String reason, String message, String kind, String name) {
    StatusBuilder status =
        new StatusBuilder()
            .withStatus("Failure")
            .withCode(code)
            .withReason(reason)
            .withMessage(message);
    if (kind != null) {
      status.withNewDetails().withKind(kind).withName(name).endDetails();
    }
    Status built = status.build();
    return new MockResponse().setResponseCode(code).setBody(json.asJson(built));
  }
}
