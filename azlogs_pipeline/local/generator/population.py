"""The synthetic tenant: users, guests, apps, service principals, managed identities, policies.

Everything here is built once per run from the seed; record builders only look things up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .geo import AZURE_BLOCKS, BY_CODE, COUNTRIES, City, Country, block_address
from .rand import Rng, weighted_table

ZERO_GUID = "00000000-0000-0000-0000-000000000000"

FIRST_NAMES = (
    "Aisha",
    "Alex",
    "Ana",
    "Andrei",
    "Arjun",
    "Beatriz",
    "Ben",
    "Carlos",
    "Chen",
    "Chloe",
    "Daniel",
    "David",
    "Elena",
    "Emma",
    "Fatima",
    "Felix",
    "Grace",
    "Hannah",
    "Hiro",
    "Ines",
    "Isaac",
    "Jack",
    "James",
    "Julia",
    "Kai",
    "Karim",
    "Laura",
    "Leon",
    "Lina",
    "Lucas",
    "Maria",
    "Mateo",
    "Mei",
    "Mohammed",
    "Nina",
    "Noah",
    "Olivia",
    "Omar",
    "Pavel",
    "Priya",
    "Rafael",
    "Rahul",
    "Sara",
    "Sofia",
    "Tariq",
    "Thomas",
    "Yuki",
    "Zoe",
    "Ines",
    "Liam",
    "Anya",
    "Ravi",
    "Sven",
    "Eva",
)
LAST_NAMES = (
    "Adams",
    "Ahmed",
    "Andersson",
    "Baker",
    "Bauer",
    "Chen",
    "Costa",
    "Dubois",
    "Fischer",
    "Garcia",
    "Gupta",
    "Hansen",
    "Ito",
    "Jansen",
    "Kim",
    "Kowalski",
    "Kumar",
    "Lee",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Muller",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "O'Brien",
    "Patel",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Suzuki",
    "Tanaka",
    "Taylor",
    "Walker",
    "Wang",
    "Weber",
    "Wilson",
    "Yamamoto",
    "Zhang",
    "Khan",
    "Sato",
    "Brown",
    "Ivanova",
)
GUEST_DOMAINS = ("gmail.com", "outlook.com", "fabrikam.com", "northwindtraders.com", "adatum.com")

# (operating system, browser, user agent) per device kind.
DEVICES = (
    (
        "Windows10",
        "Edge 120.0.2210",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    ),
    (
        "Windows10",
        "Chrome 121.0.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
    ),
    (
        "Windows",
        "Rich Client 4.56.0.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; WebView/3.0) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045",
    ),
    (
        "MacOs",
        "Safari 17.2",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    ),
    (
        "MacOs",
        "Firefox 122.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:122.0) Gecko/20100101 Firefox/122.0",
    ),
    (
        "Ios 17.2.1",
        "Mobile Safari 17.2",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) "
        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    ),
    (
        "Android 14",
        "Chrome Mobile 120.0.6099",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.210 Mobile Safari/537.36",
    ),
    (
        "Linux",
        "Chrome 120.0.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/120.0.0.0 Safari/537.36",
    ),
)
DEVICE_WEIGHTS = (30, 14, 16, 10, 3, 14, 10, 3)
TRUST_TYPES = ("Azure AD joined", "Hybrid Azure AD joined", "Azure AD registered", "")


@dataclass(frozen=True)
class App:
    app_id: str
    name: str
    resource_name: str
    resource_id: str
    resource_sp_id: str


@dataclass(frozen=True)
class ServicePrincipal:
    sp_id: str
    app_id: str
    name: str
    credential: str  # clientSecret, certificate, clientAssertion, managedIdentity
    key_id: str
    kind: str  # tenant, microsoft, managedIdentity
    mi_resource_id: str = ""
    mi_type: str = ""


@dataclass(frozen=True)
class Policy:
    policy_id: str
    name: str
    grant: tuple[str, ...]
    session: tuple[str, ...]


@dataclass
class User:
    index: int
    user_id: str
    upn: str
    display: str
    user_type: str  # Member or Guest
    home_tenant: str
    country: Country
    city: City
    ip: str
    mobile_ip: str
    ipv6: str
    asn: int
    device: dict[str, object]
    user_agent: str
    os: str
    privileged: bool
    weight: float
    # Traveller: signs in from ``city`` before ``switch_at`` and ``second_city`` after it.
    second_city: City | None = None
    switch_at: int = 0
    blackouts: list[tuple[int, int]] = field(default_factory=list)
    failure_cap: int = 8
    device_code: bool = False
    """Signs in with the device-code flow every time (an admin using a CLI): the look-alike of
    device-code phishing."""
    risk_prone: bool = False
    """Background risk (risky sign-ins, risk detections) happens to these users only, so the
    others can register security info with no risk before it."""

    def city_at(self, ticks: int) -> City:
        if self.second_city is not None and ticks >= self.switch_at:
            return self.second_city
        return self.city

    def blocked(self, ticks: int) -> bool:
        return any(lo <= ticks <= hi for lo, hi in self.blackouts)


class IpAllocator:
    """Hands out distinct addresses per country, never reusing one."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, country: Country) -> str:
        k = self._next.get(country.code, 0)
        self._next[country.code] = k + 1
        block, index = divmod(k, 256 * 253)
        if block >= len(country.user_blocks):
            raise ValueError(f"no addresses left for {country.code}")
        return block_address(country.user_blocks[block], index)


MICROSOFT_APPS = (
    (
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "Microsoft Teams",
        "Microsoft Teams Services",
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
    ),
    (
        "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "Microsoft Office",
        "Office 365 Exchange Online",
        "00000002-0000-0ff1-ce00-000000000000",
    ),
    (
        "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "Azure Portal",
        "Windows Azure Service Management API",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    ),
    (
        "4765445b-32c6-49b0-83e6-1d93765276ca",
        "OfficeHome",
        "Office 365 SharePoint Online",
        "00000003-0000-0ff1-ce00-000000000000",
    ),
    (
        "27922004-5251-4030-b22d-91ecd9a37ea4",
        "Outlook Mobile",
        "Office 365 Exchange Online",
        "00000002-0000-0ff1-ce00-000000000000",
    ),
    (
        "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "Microsoft Authentication Broker",
        "Microsoft Graph",
        "00000003-0000-0000-c000-000000000000",
    ),
    (
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
        "Windows Azure Service Management API",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    ),
    (
        "9199bf20-a13f-4107-85dc-02114787ef48",
        "One Outlook Web",
        "Office 365 Exchange Online",
        "00000002-0000-0ff1-ce00-000000000000",
    ),
    (
        "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7",
        "Office365 Shell WCSS-Client",
        "Microsoft Graph",
        "00000003-0000-0000-c000-000000000000",
    ),
    (
        "19db86c3-b2b9-44cc-b339-36da233a3be2",
        "My Signins",
        "Microsoft Graph",
        "00000003-0000-0000-c000-000000000000",
    ),
    (
        "ab9b8c07-8f02-4f72-87fa-80105867a763",
        "OneDrive SyncEngine",
        "Office 365 SharePoint Online",
        "00000003-0000-0ff1-ce00-000000000000",
    ),
    (
        "38aa3b87-a06d-4817-b275-7a316988d93b",
        "Windows Sign In",
        "Windows Azure Active Directory",
        "00000002-0000-0000-c000-000000000000",
    ),
    (
        "9ba1a5c7-f17a-4de9-a1f1-6178c8d51223",
        "Microsoft Intune Company Portal",
        "Microsoft Intune Enrollment",
        "d4ebce55-015a-49b5-a083-c84d1797ae8c",
    ),
    (
        "ecd6b820-32c2-49b6-98a6-444530e5a77a",
        "Microsoft Edge",
        "Microsoft Graph",
        "00000003-0000-0000-c000-000000000000",
    ),
)
APP_WEIGHTS = (18, 16, 4, 10, 6, 8, 2, 10, 6, 1, 8, 6, 2, 3)
TENANT_APPS = (
    "Contoso HR Portal",
    "Salesforce",
    "ServiceNow",
    "Workday",
    "GitHub Enterprise",
    "Zoom",
    "Slack",
    "AWS Single-Account Access",
)
SP_NAMES = (
    ("contoso-backup-automation", "clientSecret"),
    ("terraform-ci", "clientSecret"),
    ("jenkins-deployer", "certificate"),
    ("sentinel-connector", "clientSecret"),
    ("powerbi-refresh", "certificate"),
    ("datadog-integration", "clientSecret"),
    ("github-actions-oidc", "clientAssertion"),
    ("intune-sync", "certificate"),
    ("hr-provisioning-connector", "clientSecret"),
    ("log-export-function", "clientAssertion"),
    ("crm-data-pipeline", "clientSecret"),
    ("sharepoint-archiver", "certificate"),
)
MICROSOFT_SPS = (
    ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"),
    ("Microsoft Intune", "0000000a-0000-0000-c000-000000000000"),
    ("Azure Resource Graph", "509e4652-da8d-478d-a730-e9d4a1996ca4"),
    ("Microsoft Defender for Cloud Apps", "05a65629-4c1b-48c1-a78b-804c4abdd4af"),
)
MANAGED_IDENTITIES = (
    ("mi-func-orders-prod", "userAssigned", "rg-orders-prod"),
    ("mi-aks-agentpool", "userAssigned", "rg-aks-prod"),
    ("la-invoices", "systemAssigned", "rg-finance"),
    ("vm-build-01", "systemAssigned", "rg-build"),
    ("adf-lakehouse", "systemAssigned", "rg-data"),
    ("mi-keyvault-reader", "userAssigned", "rg-shared"),
)
RISK_PRONE_EVERY = 4
"""One user in this many gets background risk (see ``User.risk_prone``)."""
CA_POLICIES = (
    ("Require multifactor authentication for admins", ("Mfa",), ()),
    ("Block legacy authentication", ("Block",), ()),
    (
        "Require compliant device or approved client app",
        ("RequireCompliantDevice", "RequireApprovedApp"),
        (),
    ),
    ("Require MFA outside trusted locations", ("Mfa",), ("SignInFrequency",)),
    ("Block access from sanctioned countries", ("Block",), ()),
    ("[Report-only] Require phishing-resistant MFA", ("Mfa",), ()),
)
SUBSCRIPTION_NAMES = ("prod", "dev", "shared")
RESOURCE_GROUPS = (
    "rg-prod-web",
    "rg-shared-net",
    "rg-data",
    "rg-orders-prod",
    "rg-aks-prod",
    "rg-finance",
    "rg-build",
    "rg-security",
    "rg-identity",
)


class Population:
    """All entities of one synthetic tenant."""

    def __init__(self, rng: Rng, n_users: int) -> None:
        self.tenant_id = rng.guid()
        self.domain = "contoso.com"
        self.tenant_name = "Contoso"
        self.partner_tenants = [rng.guid() for _ in range(4)]
        self.ips = IpAllocator()
        self.subscriptions = [rng.guid() for _ in SUBSCRIPTION_NAMES]
        self.management_group = "contoso-root"
        self.apps = self._apps(rng)
        self.app_table = weighted_table(
            list(zip(self.apps, [*APP_WEIGHTS, *([1.5] * len(TENANT_APPS))], strict=True))
        )
        self.service_principals = [
            ServicePrincipal(rng.guid(), rng.guid(), name, cred, rng.guid(), "tenant")
            for name, cred in SP_NAMES
        ]
        self.microsoft_sps = [
            ServicePrincipal(rng.guid(), app_id, name, "certificate", "", "microsoft")
            for name, app_id in MICROSOFT_SPS
        ]
        self.managed_identities = [
            ServicePrincipal(
                rng.guid(),
                rng.guid(),
                name,
                "managedIdentity",
                "",
                "managedIdentity",
                mi_resource_id=self._mi_resource(name, kind, rg),
                mi_type=kind,
            )
            for name, kind, rg in MANAGED_IDENTITIES
        ]
        self.policies = [Policy(rng.guid(), n, g, s) for n, g, s in CA_POLICIES]
        self.users = self._users(rng, n_users)
        self.cum_weights = self._cumulative([u.weight for u in self.users])
        self.admins = [u for u in self.users if u.privileged] or self.users[:1]
        self.members = [u for u in self.users if u.user_type == "Member"]
        for user in self.users:
            user.risk_prone = user.index % RISK_PRONE_EVERY == 0
        self.risk_prone_users = [u for u in self.users if u.risk_prone]
        self.risk_free_users = [u for u in self.users if not u.risk_prone]

    def mark_risky(self, user: User) -> None:
        """A scenario gives ``user`` risk: background security info changes leave them alone."""
        user.risk_prone = True
        if user in self.risk_free_users:
            self.risk_free_users.remove(user)

    @staticmethod
    def _cumulative(weights: list[float]) -> list[float]:
        out, acc = [], 0.0
        for w in weights:
            acc += w
            out.append(acc)
        return out

    def _mi_resource(self, name: str, kind: str, rg: str) -> str:
        sub = self.subscriptions[0]
        if kind == "userAssigned":
            return (
                f"/subscriptions/{sub}/resourcegroups/{rg}/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
            )
        return f"/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Web/sites/{name}"

    def _apps(self, rng: Rng) -> list[App]:
        apps = [App(a, n, rn, rid, rng.guid()) for a, n, rn, rid in MICROSOFT_APPS]
        for name in TENANT_APPS:
            app_id = rng.guid()
            apps.append(App(app_id, name, name, app_id, rng.guid()))
        return apps

    def _users(self, rng: Rng, n: int) -> list[User]:
        homes = weighted_table([(c, c.home_weight) for c in COUNTRIES if c.home_weight > 0])
        device_table = weighted_table(list(zip(range(len(DEVICES)), DEVICE_WEIGHTS, strict=True)))
        users: list[User] = []
        seen: set[str] = set()
        for i in range(n):
            first, last = rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)
            guest = rng.chance(0.06)
            country = rng.pick(homes)
            city = country.cities[0] if rng.chance(0.5) else rng.pick(country.cities)
            local = f"{first}.{last}".lower().replace("'", "")
            if local in seen:
                local = f"{local}{i}"
            seen.add(local)
            if guest:
                upn = f"{local}_{rng.pick(GUEST_DOMAINS).replace('.', '_')}#EXT#@contoso.onmicrosoft.com"
                home_tenant = rng.pick(self.partner_tenants)
            else:
                upn = f"{local}@{self.domain}"
                home_tenant = self.tenant_id
            dev = rng.pick(device_table)
            os_name, browser, agent = DEVICES[dev]
            managed = not guest and rng.chance(0.8)
            device = {
                "deviceId": rng.guid() if managed else "",
                "displayName": f"{'LAPTOP' if dev < 5 else 'PHONE'}-{rng.hexstr(7).upper()}"
                if managed
                else "",
                "operatingSystem": os_name,
                "browser": browser,
                "isCompliant": managed and rng.chance(0.9),
                "isManaged": managed,
                "trustType": rng.pick(TRUST_TYPES[:3]) if managed else "",
            }
            users.append(
                User(
                    index=i,
                    user_id=rng.guid(),
                    upn=upn,
                    display=f"{first} {last}",
                    user_type="Guest" if guest else "Member",
                    home_tenant=home_tenant,
                    country=country,
                    city=city,
                    ip=self.ips.take(country),
                    mobile_ip=self.ips.take(country),
                    ipv6=f"2a02:{0x1000 + COUNTRIES.index(country):x}:{i >> 16:x}:{i & 0xFFFF:x}::1",
                    asn=rng.pick(country.asns),
                    device=device,
                    user_agent=agent,
                    os=os_name,
                    privileged=not guest and rng.chance(0.03),
                    weight=1.0 / (1 + (i % 97) / 12.0) * (0.3 if guest else 1.0),
                )
            )
        return users

    def azure_ip(self, rng: Rng) -> str:
        return block_address(rng.pick(AZURE_BLOCKS), rng.randrange(256 * 253))

    def country(self, code: str) -> Country:
        return BY_CODE[code]
