"""TPC-DS-shaped data for checking Skadi against DataFusion: the 24 tables of TPC-DS's
schema (schema.json), filled with seeded random rows rather than dsdgen's. Keys point
into the dimension tables, returns reuse sold (item, order) pairs so sales and returns
join, string columns draw from the values the queries compare against (states,
categories, colors, ...), and 3% of every column but the keys is NULL.

    python3 scripts/tpcds/data.py OUT_DIR [SEED]
"""

import datetime
import decimal
import json
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

ROWS = {
    "store_sales": 30000, "store_returns": 3000, "catalog_sales": 20000, "catalog_returns": 2000,
    "web_sales": 15000, "web_returns": 1500, "inventory": 20000, "customer": 800,
    "customer_address": 500, "customer_demographics": 400, "household_demographics": 100,
    "item": 300, "promotion": 30, "store": 12, "call_center": 6, "catalog_page": 100,
    "web_page": 30, "web_site": 10, "warehouse": 5, "ship_mode": 20, "reason": 35,
    "income_band": 20, "time_dim": 2000,
}
FIRST_DAY, DAYS, FIRST_DATE_SK = datetime.date(1998, 1, 1), 6 * 365 + 2, 2450815
# A dimension table's own key (its first column), numbered 1, 2, ... (set by main).
KEY_OF = {}
RETURNS = {"store_returns": "store_sales", "catalog_returns": "catalog_sales", "web_returns": "web_sales"}

# Values the queries compare string columns with, by the column names that hold them.
POOLS = [
    (["_state"], "TN GA TX KY VA OH NM OR IN IL CA MS WI WA OK NJ ND MN LA IA CT CO AR".split()),
    (["_county"], ["Williamson County", "Toole County", "Rush County", "Orange County", "La Porte County",
                   "Jefferson County", "Franklin Parish", "Dona Ana County", "Bronx County"]),
    (["_city"], ["Midway", "Fairview", "Edgewood", "Oak Grove", "Pleasant Hill"]),
    (["i_category"], "Books Women Men Electronics Music Sports Jewelry Home Children Shoes".split()),
    (["i_class"], "self-help reference portable personal pants fragrances classical accessories stereo shirts "
                  "maternity football dresses computers birdal".split()),
    (["i_color"], "slate burnished blanched purple powder peach papaya orange midnight light khaki indian honeydew "
                  "ghost frosted forest deep cyan cornflower burlywood brown snow saddle floral spring".split()),
    (["i_units"], "Ton Tbl Pound Pallet Oz Ounce Lb Gross Each Dram Dozen Cup Bundle Bunch Box N/A".split()),
    (["i_size"], ["medium", "petite", "extra large", "small", "large", "economy", "N/A"]),
    (["cd_gender"], ["M", "F"]),
    (["cd_marital_status"], list("MSDWU")),
    (["cd_education_status"], ["College", "Advanced Degree", "Unknown", "Primary", "Secondary", "2 yr Degree",
                               "4 yr Degree"]),
    (["cd_credit_rating"], ["Good", "High Risk", "Low Risk", "Unknown"]),
    (["hd_buy_potential"], [">10000", "5001-10000", "1001-5000", "501-1000", "0-500", "Unknown"]),
    (["sm_type"], ["EXPRESS", "OVERNIGHT", "LIBRARY", "REGULAR", "TWO DAY", "NEXT DAY"]),
    (["sm_carrier"], ["DHL", "BARIAN", "UPS", "FEDEX", "AIRBORNE", "USPS"]),
    (["s_store_name"], "ought able pri ese anti cally bar eing".split()),
    (["t_meal_time"], ["breakfast", "lunch", "dinner"]),
    (["t_shift"], ["first", "second", "third"]),
    (["t_am_pm"], ["AM", "PM"]),
    (["ca_location_type"], ["apartment", "condo", "single family"]),
    (["_street_type"], ["Street", "Ave", "Blvd", "Road", "Lane"]),
    (["_zip"], [str(z) for z in range(10000, 99999, 1499)] + "85669 86197 88274 83405 86475 85392 85460".split()),
    (["c_salutation"], ["Mr.", "Mrs.", "Ms.", "Dr.", "Sir"]),
    (["_country", "c_birth_country"], ["United States"]),
    (["_hours"], ["8AM-4PM", "8AM-12AM", "8AM-8AM"]),
    (["cc_class"], ["small", "medium", "large"]),
    (["r_reason_desc"], ["reason 28", "reason 1", "Package was damaged", "Did not like the color"]),
    (["p_purpose"], ["Unknown", "Business"]),
    (["wp_type"], ["ad", "feedback", "general", "order", "protected", "welcome"]),
    (["p_channel_", "_flag", "d_holiday", "d_weekend", "d_following_holiday", "d_current_", "p_discount_active"],
     ["Y", "N"]),
]
# Foreign keys: the column suffix and the table it points into.
KEYS = [
    ("date_sk", "date_dim"), ("time_sk", "time_dim"), ("item_sk", "item"), ("customer_sk", "customer"),
    ("cdemo_sk", "customer_demographics"), ("hdemo_sk", "household_demographics"), ("addr_sk", "customer_address"),
    ("store_sk", "store"), ("promo_sk", "promotion"), ("call_center_sk", "call_center"),
    ("catalog_page_sk", "catalog_page"), ("ship_mode_sk", "ship_mode"), ("warehouse_sk", "warehouse"),
    ("web_page_sk", "web_page"), ("web_site_sk", "web_site"), ("reason_sk", "reason"),
    ("income_band_sk", "income_band"), ("demo_sk", "customer_demographics"), ("address_sk", "customer_address"),
    ("site_sk", "web_site"), ("page_sk", "catalog_page"),
]
TYPES = {"int32": pa.int32(), "int64": pa.int64(), "date32": pa.date32(), "string": pa.string()}


def arrow_type(name):
    if name.startswith("decimal("):
        p, s = name[8:-1].split(",")
        return pa.decimal128(int(p), int(s))
    return TYPES[name]


def rows(table):
    return DAYS if table == "date_dim" else ROWS[table]


def date_dim_value(column, r):
    d = FIRST_DAY + datetime.timedelta(days=r)
    return {
        "d_date_sk": FIRST_DATE_SK + r, "d_date": d, "d_year": d.year, "d_moy": d.month, "d_dom": d.day,
        "d_qoy": (d.month - 1) // 3 + 1, "d_dow": d.isoweekday() % 7, "d_month_seq": (d.year - 1900) * 12 + d.month - 1,
        "d_week_seq": (r + 3) // 7 + 5000, "d_quarter_seq": (d.year - 1900) * 4 + (d.month - 1) // 3,
        "d_fy_year": d.year, "d_day_name": d.strftime("%A"), "d_quarter_name": f"{d.year}Q{(d.month - 1) // 3 + 1}",
        "d_date_id": f"AAAAAAAA{r:08d}",
    }.get(column)


def integer(column, r, n):
    if "number" in column:
        return r // 3 + 1  # three lines to an order or ticket
    if "quantity" in column:
        return random.randint(1, 100)
    if column == "t_hour":
        return r * 24 // n
    if column in ("t_minute", "t_second"):
        return random.randint(0, 59)
    if column == "t_time":
        return r * 86400 // n
    if "manufact_id" in column or "manager_id" in column:
        return random.randint(1, 60)
    if "brand_id" in column or "class_id" in column or "category_id" in column:
        return random.randint(1, 12)
    if "birth_year" in column:
        return random.randint(1924, 1992)
    if "birth_month" in column:
        return random.randint(1, 12)
    if "dep" in column or "vehicle" in column:
        return random.randint(0, 6)
    if "bound" in column:
        return random.randint(0, 20) * 10000
    return random.randint(0, 1000)


def value(table, column, ty, r, n):
    if table == "date_dim":
        v = date_dim_value(column, r)
        if v is not None:
            return v
        return random.choice(["Y", "N"]) if pa.types.is_string(ty) else random.randint(1, 30)
    if KEY_OF.get(table) == column:
        return r + 1
    if random.random() < 0.03:
        return None
    if column.endswith("_sk"):
        target = next((t for suffix, t in KEYS if column.endswith(suffix)), None)
        if target == "date_dim":
            return FIRST_DATE_SK + random.randrange(DAYS)
        return random.randint(1, rows(target)) if target else random.randint(1, 50)
    if pa.types.is_decimal(ty):
        if "offset" in column:
            return decimal.Decimal(random.choice([-5, -6, -7, -8])).quantize(decimal.Decimal(1).scaleb(-ty.scale))
        low = -100 if any(k in column for k in ("profit", "loss")) else 0
        high = min(10 ** (ty.precision - ty.scale) - 1, 300) * 100
        return (decimal.Decimal(random.randint(low, high)) / 100).quantize(decimal.Decimal(1).scaleb(-ty.scale))
    if pa.types.is_date32(ty):
        return FIRST_DAY + datetime.timedelta(days=random.randrange(-2000, DAYS))
    if pa.types.is_integer(ty):
        return integer(column, r, n)
    pool = next((values for names, values in POOLS if any(k in column for k in names)), None)
    if pool:
        return random.choice(pool)
    if column.endswith("_id"):
        return f"AAAAAAAA{random.randint(0, max(n // 2, 1)):08d}"
    return f"{column.split('_')[-1]}{random.randint(0, 40)}"


def generate(table, schema, out):
    n = rows(table)
    columns = {f.name: [value(table, f.name, f.type, r, n) for r in range(n)] for f in schema}
    if table in RETURNS:
        sold = pq.read_table(os.path.join(out, f"{RETURNS[table]}.parquet")).to_pydict()
        pick = lambda d, suffixes: next(c for c in d if c.endswith(suffixes))
        item, number = pick(sold, "_item_sk"), pick(sold, ("order_number", "ticket_number"))
        ritem, rnumber = pick(columns, "_item_sk"), pick(columns, ("order_number", "ticket_number"))
        for r in range(n):
            j = random.randrange(len(sold[item]))
            columns[ritem][r], columns[rnumber][r] = sold[item][j], sold[number][j]
    pq.write_table(pa.Table.from_pydict(columns, schema=schema), os.path.join(out, f"{table}.parquet"))


def main():
    out = sys.argv[1]
    random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    os.makedirs(out, exist_ok=True)
    tables = json.load(open(os.path.join(os.path.dirname(__file__), "schema.json")))
    # A dimension's own key is its first column (1, 2, ...); fact tables have none.
    for table, columns in tables.items():
        first = columns[0].split(":")[0]
        if first.endswith("_sk") and not table.endswith(("sales", "returns")) and table != "inventory":
            KEY_OF[table] = first
    for table in sorted(tables, key=lambda t: (t in RETURNS, t)):
        schema = pa.schema([pa.field(c, arrow_type(t), True) for c, t in (x.split(":") for x in tables[table])])
        generate(table, schema, out)
        print(f"{table}: {rows(table)} rows")


if __name__ == "__main__":
    main()
