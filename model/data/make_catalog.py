#!/usr/bin/env python3
"""Generates catalog.json, the starter catalog compiled into `model`.

Item names, departments, materials and time limits follow the Gansu
government service guide (甘肃政务服务网) for village-level filing; the
implementation codes are illustrative placeholders in the right shape (an..24)
until the provincial platform's codes are synced from the hub.
Edit this script, not the JSON, and run it again.
"""
import json
import re

def t(zh, en):
    text = {"zh-CN": zh, "en": en}
    # Tibetan and Kazakh where a draft exists; other texts fall back to Chinese.
    if zh in DRAFTS:
        bo, kk = DRAFTS[zh]
        text["bo"] = bo
        text["kk"] = kk_arabic(kk)
    return text

# DRAFT translations, not yet reviewed by native speakers (like the kiosk's
# ui/translations/*.po): Tibetan, and Kazakh written in Cyrillic here and
# converted to the Arabic script used in China.
DRAFTS = {
    # Items
    "社会保障卡申领": ("སྤྱི་ཚོགས་འགན་སྲུང་ལག་ཁྱེར་ཞུ་བ།", "Әлеуметтік қамсыздандыру картасын алу"),
    "城乡居民基本养老保险参保登记": ("གྲོང་ཁྱེར་དང་གྲོང་གསེབ་མི་དམངས་ཀྱི་རྒན་གསོ་ཉེན་འགོག་ཐོ་འགོད།", "Қала-ауыл тұрғындарының зейнетақы сақтандыруына тіркелу"),
    "养老金领取资格认证": ("རྒན་གསོ་དངུལ་ལེན་པའི་ཆོག་མཆན་ར་སྤྲོད།", "Зейнетақы алу құқығын растау"),
    "城乡居民医保参保登记": ("གྲོང་ཁྱེར་དང་གྲོང་གསེབ་མི་དམངས་ཀྱི་སྨན་བཅོས་ཉེན་འགོག་ཐོ་འགོད།", "Қала-ауыл тұрғындарының медициналық сақтандыруына тіркелу"),
    "高龄津贴申请": ("ན་རྒན་རོགས་དངུལ་ཞུ་བ།", "Қарттық жәрдемақыға өтініш"),
    "残疾人两项补贴申请": ("དབང་པོ་སྐྱོན་ཅན་གྱི་རོགས་དངུལ་རྣམ་གཉིས་ཞུ་བ།", "Мүгедектердің екі түрлі жәрдемақысына өтініш"),
    "农村最低生活保障申请": ("ཞིང་གྲོང་འཚོ་བའི་ཆེས་དམའ་འགན་ལེན་ཞུ་བ།", "Ауылдық ең төменгі күнкөріс кепілдігіне өтініш"),
    "临时救助申请": ("གནས་སྐབས་སྐྱོབ་རོགས་ཞུ་བ།", "Уақытша көмекке өтініш"),
    "出生登记": ("སྐྱེས་ཐོ་འགོད་པ།", "Туу тіркеуі"),
    # Offices
    "县人力资源和社会保障局": ("རྫོང་མི་ཤུགས་ཐོན་ཁུངས་དང་སྤྱི་ཚོགས་འགན་སྲུང་ཅུས།", "Аудандық адам ресурстары және әлеуметтік қамсыздандыру басқармасы"),
    "县医疗保障局": ("རྫོང་སྨན་བཅོས་འགན་སྲུང་ཅུས།", "Аудандық медициналық қамсыздандыру басқармасы"),
    "县民政局": ("རྫོང་དམངས་སྲིད་ཅུས།", "Аудандық азаматтық істер басқармасы"),
    "县残疾人联合会": ("རྫོང་དབང་པོ་སྐྱོན་ཅན་མཉམ་འབྲེལ་ཚོགས་པ།", "Аудандық мүгедектер бірлестігі"),
    "县公安局": ("རྫོང་སྤྱི་བདེ་ཅུས།", "Аудандық қоғамдық қауіпсіздік басқармасы"),
    # Themes
    "社会保障": ("སྤྱི་ཚོགས་འགན་སྲུང་།", "Әлеуметтік қамсыздандыру"),
    "医疗保障": ("སྨན་བཅོས་འགན་སྲུང་།", "Медициналық қамсыздандыру"),
    "养老服务": ("རྒན་གསོ་ཞབས་ཞུ།", "Қарттарға қызмет"),
    "助残服务": ("དབང་པོ་སྐྱོན་ཅན་ལ་རོགས་རམ།", "Мүгедектерге көмек"),
    "社会救助": ("སྤྱི་ཚོགས་སྐྱོབ་རོགས།", "Әлеуметтік көмек"),
    "户籍生育": ("ཐེམ་ཐོ་དང་བུ་ཕྲུག་སྐྱེ་བ།", "Тіркеу және бала туу"),
    # Common fields and materials
    "姓名": ("མིང་།", "Аты-жөні"),
    "身份证号码": ("ལག་ཁྱེར་ཨང་གྲངས།", "Куәлік нөмірі"),
    "联系电话": ("འབྲེལ་གཏུག་ཁ་པར།", "Телефон"),
    "住址": ("སྡོད་གནས།", "Мекенжай"),
    "居民身份证": ("ཐོབ་ཐང་ལག་ཁྱེར།", "Жеке куәлік"),
    "户口簿": ("ཐེམ་ཐོ་དེབ།", "Тіркеу кітапшасы"),
    # Conditions (谁可以办)
    "参加社会保险的人员，未持有社会保障卡或需要换发。": ("སྤྱི་ཚོགས་འགན་སྲུང་ཉེན་འགོག་ལ་ཞུགས་ཡོད་པའི་མི་སྣ་གང་ཞིག་ལ་སྤྱི་ཚོགས་འགན་སྲུང་ལག་ཁྱེར་མེད་པའམ་བརྗེ་དགོས་པ།", "Әлеуметтік сақтандыруға қатысқан, әлеуметтік қамсыздандыру картасы жоқ немесе ауыстыруы керек адамдар."),
    "年满16周岁（不含在校学生），非国家机关和事业单位工作人员，不属于职工基本养老保险覆盖范围的城乡居民。": ("ལོ་ ༡༦ ལོན་པ། (སློབ་མ་མིན་པ།) རྒྱལ་ཁབ་ལས་ཁུངས་དང་ལས་ཁུངས་ཀྱི་ལས་བྱེད་མིན་པ། ལས་བྱེད་པའི་རྒན་གསོ་ཉེན་འགོག་ཁྱབ་ཁོངས་སུ་མེད་པའི་གྲོང་ཁྱེར་དང་གྲོང་གསེབ་ཀྱི་མི་དམངས།", "16 жасқа толған (оқушылардан басқа), мемлекеттік мекеме қызметкері емес, қызметкерлердің зейнетақы сақтандыруына кірмейтін қала мен ауыл тұрғындары."),
    "正在领取城乡居民或职工基本养老金的人员，每年认证一次。": ("གྲོང་ཁྱེར་དང་གྲོང་གསེབ་མི་དམངས་སམ་ལས་བྱེད་པའི་རྒན་གསོ་དངུལ་ལེན་བཞིན་པའི་མི་སྣ། ལོ་རེར་ཐེངས་གཅིག་ར་སྤྲོད་བྱེད།", "Қала-ауыл тұрғындарының немесе қызметкерлердің негізгі зейнетақысын алып жүрген адамдар, жылына бір рет расталады."),
    "未参加职工基本医疗保险的城乡居民。": ("ལས་བྱེད་པའི་སྨན་བཅོས་ཉེན་འགོག་ལ་ཞུགས་མེད་པའི་གྲོང་ཁྱེར་དང་གྲོང་གསེབ་ཀྱི་མི་དམངས།", "Қызметкерлердің негізгі медициналық сақтандыруына қатыспаған қала мен ауыл тұрғындары."),
    "具有本地户籍、年满80周岁的老年人。": ("ས་གནས་འདིའི་ཐེམ་ཐོ་ཡོད་པ་དང་ལོ་ ༨༠ ལོན་པའི་རྒན་པོ་རྒན་མོ།", "Осы жерде тіркелген, 80 жасқа толған қарттар."),
    "持有第二代残疾人证的困难残疾人、重度残疾人。": ("མི་རབས་གཉིས་པའི་དབང་པོ་སྐྱོན་ཅན་ལག་ཁྱེར་ཡོད་པའི་དཀའ་ངལ་ཅན་དང་སྐྱོན་ཆེན་གྱི་དབང་པོ་སྐྱོན་ཅན།", "Екінші буын мүгедектік куәлігі бар, тұрмысы қиын немесе ауыр дәрежелі мүгедектер."),
    "家庭人均收入低于当地农村低保标准、且财产状况符合规定的农村居民家庭。": ("ཁྱིམ་ཚང་གི་མི་རེའི་ཡོང་འབབ་ས་གནས་ཀྱི་གྲོང་གསེབ་དམའ་འགོག་ཚད་གཞི་ལས་དམའ་བ། རྒྱུ་ནོར་གནས་སྟངས་སྒྲིག་སྲོལ་དང་མཐུན་པའི་གྲོང་གསེབ་ཁྱིམ་ཚང་།", "Отбасының жан басына шаққандағы табысы жергілікті ең төменгі күнкөріс деңгейінен төмен, мүлкі ережеге сай ауыл отбасылары."),
    "因火灾、交通事故、重大疾病等原因导致基本生活暂时出现严重困难的家庭或个人。": ("མེ་སྐྱོན་དང་འགྲིམ་འགྲུལ་ཉེན་ཁ། ནད་ཚབས་ཆེན་སོགས་ཀྱི་རྐྱེན་གྱིས་གནས་སྐབས་འཚོ་བར་དཀའ་ངལ་ཚབས་ཆེན་བྱུང་བའི་ཁྱིམ་ཚང་ངམ་མི་སྒེར།", "Өрт, жол апаты, ауыр науқас сияқты себептермен тұрмысы уақытша қатты қиындаған отбасы немесе жеке адам."),
    "在本地出生的婴儿，由父母一方申报出生登记。": ("ས་གནས་འདིར་སྐྱེས་པའི་བྱིས་པའི་སྐྱེས་ཐོ་ཕ་མ་གང་རུང་གཅིག་གིས་འགོད་པ།", "Осы жерде туған нәрестенің тууын ата-анасының бірі тіркетеді."),
    "医疗费用票据": ("སྨན་བཅོས་འགྲོ་སོང་གི་ཤོག་འཛིན།", "Емделу шығынының түбіртектері"),
    "本人近期免冠证件照": ("རང་ཉིད་ཀྱི་ཉེ་ཆར་གྱི་ལག་ཁྱེར་འདྲ་པར།", "Жақында түскен құжат суреті"),
    "发卡银行": ("ལག་ཁྱེར་སྤྲོད་མཁན་དངུལ་ཁང་།", "Карта беретін банк"),
}

_KK = {
    "а": "ا", "ә": "ا", "б": "ب", "в": "ۆ", "г": "گ", "ғ": "ع", "д": "د", "е": "ە",
    "ж": "ج", "з": "ز", "и": "ي", "й": "ي", "к": "ك", "қ": "ق", "л": "ل", "м": "م",
    "н": "ن", "ң": "ڭ", "о": "و", "ө": "و", "п": "پ", "р": "ر", "с": "س", "т": "ت",
    "у": "ۋ", "ұ": "ۇ", "ү": "ۇ", "ф": "ف", "х": "ح", "һ": "ھ", "ц": "تس", "ч": "چ",
    "ш": "ش", "ы": "ى", "і": "ى", "ь": "", "ъ": "", "э": "ە", "ю": "يۋ", "я": "يا",
}

def kk_arabic(cyrillic):
    """Cyrillic Kazakh to the Arabic script (see ui/translations/kk_cyrillic_to_arabic.py)."""
    def word(w):
        low = w.lower()
        out = "".join(_KK.get(c, c) for c in low)
        if any(c in "әөүі" for c in low) and not any(c in "екгэ" for c in low):
            out = "\u0674" + out
        return out
    text = re.sub(r"[А-Яа-яӘәҒғҚқҢңӨөҰұҮүҺһІі]+", lambda m: word(m.group(0)), cyrillic)
    # Arabic punctuation, as in the kiosk's .po files.
    return text.replace(",", "،").replace("?", "؟").replace(";", "؛")

def tl(amount, unit):
    return {"amount": amount, "unit": unit}

def mat(code, zh, en, source, required=True, originals=1, copies=0):
    return {"code": code, "name": t(zh, en), "originals": originals, "copies": copies,
            "required": required, "source": source}

NAME = {"key": "name", "label": t("姓名", "Name"), "type": "text", "max_len": 30, "required": True, "prefill": "name"}
IDNO = {"key": "id_number", "label": t("身份证号码", "ID number"), "type": "text", "max_len": 18, "required": True, "prefill": "id_number"}
PHONE = {"key": "phone", "label": t("联系电话", "Phone"), "type": "phone", "required": True}
ADDR = {"key": "address", "label": t("住址", "Address"), "type": "text", "max_len": 70, "required": True, "prefill": "address"}
ID_MAT = mat("idcard", "居民身份证", "Resident ID card", "id_card")

def choice(key, zh, en, options, required=True):
    return {"key": key, "label": t(zh, en), "type": "choice", "required": required,
            "options": [{"value": v, "label": t(z, e)} for v, z, e in options]}

def item(code, zh, en, dept_zh, dept_en, theme, itype, cond_zh, cond_en, materials, form,
         legal, promised, result, availability="self_service"):
    return {"implement_code": code, "name": t(zh, en), "department": t(dept_zh, dept_en), "theme": theme,
            "item_type": itype, "conditions": t(cond_zh, cond_en), "materials": materials, "form": form,
            "legal_time_limit": legal, "promised_time_limit": promised, "result_type": result,
            "fee": {"kind": "free"}, "availability": availability}

RS = ("县人力资源和社会保障局", "County Human Resources and Social Security Bureau")
YB = ("县医疗保障局", "County Healthcare Security Bureau")
MZ = ("县民政局", "County Civil Affairs Bureau")
CL = ("县残疾人联合会", "County Disabled Persons' Federation")
GA = ("县公安局", "County Public Security Bureau")

items = [
    item("620000RS0001", "社会保障卡申领", "Apply for a social security card", *RS, "social_security",
         "public_service", "参加社会保险的人员，未持有社会保障卡或需要换发。",
         "Insured persons without a social security card, or whose card must be replaced.",
         [ID_MAT, mat("photo", "本人近期免冠证件照", "Recent ID-style photo", "photo")],
         [NAME, IDNO, PHONE, choice("bank", "发卡银行", "Issuing bank",
             [("abc", "中国农业银行", "Agricultural Bank of China"), ("rcc", "甘肃农村信用社", "Gansu Rural Credit Cooperative"),
              ("psbc", "中国邮政储蓄银行", "Postal Savings Bank of China")])],
         tl(20, "working_days"), tl(10, "working_days"), "certificate"),
    item("620000RS0002", "城乡居民基本养老保险参保登记", "Enrol in basic pension insurance for urban and rural residents", *RS,
         "social_security", "public_service",
         "年满16周岁（不含在校学生），非国家机关和事业单位工作人员，不属于职工基本养老保险覆盖范围的城乡居民。",
         "Residents aged 16 or over (not students) who are not covered by the employees' pension scheme.",
         [ID_MAT, mat("hukou", "户口簿", "Household register", "scan")],
         [NAME, IDNO, PHONE, choice("contribution_level", "缴费档次", "Contribution level (yuan/year)",
             [("200", "200元", "200 yuan"), ("300", "300元", "300 yuan"), ("500", "500元", "500 yuan"), ("1000", "1000元", "1000 yuan")])],
         tl(15, "working_days"), tl(5, "working_days"), "registration"),
    item("620000RS0003", "养老金领取资格认证", "Pension eligibility certification", *RS, "social_security",
         "administrative_confirmation", "正在领取城乡居民或职工基本养老金的人员，每年认证一次。",
         "People receiving a basic pension, certified once a year.",
         [ID_MAT, mat("face", "本人现场人脸照片", "Live face photo", "face_photo")],
         [NAME, IDNO, PHONE],
         tl(1, "immediate"), tl(1, "immediate"), "registration"),
    item("620000YB0001", "城乡居民医保参保登记", "Enrol in medical insurance for urban and rural residents", *YB,
         "medical", "public_service", "未参加职工基本医疗保险的城乡居民。",
         "Residents not covered by employees' medical insurance.",
         [ID_MAT, mat("hukou", "户口簿", "Household register", "scan")],
         [NAME, IDNO, PHONE, ADDR],
         tl(10, "working_days"), tl(3, "working_days"), "registration"),
    item("620000MZ0001", "高龄津贴申请", "Apply for the old-age allowance", *MZ, "elderly",
         "administrative_payment", "具有本地户籍、年满80周岁的老年人。",
         "Local residents aged 80 or over.",
         [ID_MAT, mat("hukou", "户口簿", "Household register", "scan"),
          mat("bankbook", "本人银行卡或存折", "Bank card or passbook", "scan")],
         [NAME, IDNO, PHONE, {"key": "bank_account", "label": t("银行账号", "Bank account number"), "type": "digits",
                              "min_len": 12, "max_len": 19, "required": True}],
         tl(20, "working_days"), tl(15, "working_days"), "payment"),
    item("620000CL0001", "残疾人两项补贴申请", "Apply for the two disability subsidies", *CL, "disability",
         "administrative_payment", "持有第二代残疾人证的困难残疾人、重度残疾人。",
         "Holders of the second-generation disability certificate who are in hardship or severely disabled.",
         [ID_MAT, mat("disability_cert", "残疾人证", "Disability certificate", "e_license")],
         [NAME, IDNO, PHONE, choice("subsidy", "申请补贴", "Subsidy applied for",
             [("living", "困难残疾人生活补贴", "Living subsidy"), ("nursing", "重度残疾人护理补贴", "Nursing subsidy"),
              ("both", "两项都申请", "Both")])],
         tl(20, "working_days"), tl(15, "working_days"), "payment"),
    item("620000MZ0002", "农村最低生活保障申请", "Apply for rural minimum living guarantee (dibao)", *MZ, "assistance",
         "administrative_payment", "家庭人均收入低于当地农村低保标准、且财产状况符合规定的农村居民家庭。",
         "Rural households whose per-capita income is below the local dibao line and whose assets qualify.",
         [ID_MAT, mat("hukou", "户口簿", "Household register", "scan"),
          mat("income", "家庭收入情况声明", "Statement of household income", "signature")],
         [NAME, IDNO, PHONE, {"key": "household_size", "label": t("家庭人口数", "Household members"), "type": "digits",
                              "min_len": 1, "max_len": 2, "required": True}],
         tl(30, "working_days"), tl(20, "working_days"), "payment", "assisted_only"),
    item("620000MZ0003", "临时救助申请", "Apply for temporary assistance", *MZ, "assistance",
         "administrative_payment", "因火灾、交通事故、重大疾病等原因导致基本生活暂时出现严重困难的家庭或个人。",
         "Households or people in sudden severe hardship from fire, accident, serious illness and the like.",
         [ID_MAT, mat("proof", "困难情况证明材料", "Proof of hardship", "scan"),
          mat("bills", "医疗费用票据", "Medical bills", "scan", required=False)],
         [NAME, IDNO, PHONE, choice("cause", "困难原因", "Cause of hardship",
             [("illness", "重大疾病", "Serious illness"), ("disaster", "火灾或自然灾害", "Fire or natural disaster"),
              ("accident", "交通事故等意外", "Accident"), ("other", "其他", "Other")])],
         tl(15, "working_days"), tl(10, "working_days"), "payment"),
    item("620000GA0001", "出生登记", "Birth registration", *GA, "family", "administrative_confirmation",
         "在本地出生的婴儿，由父母一方申报出生登记。", "A parent registers a baby born here.",
         [ID_MAT, mat("birth_cert", "出生医学证明", "Medical birth certificate", "e_license"),
          mat("hukou", "户口簿", "Household register", "scan")],
         [NAME, IDNO, PHONE,
          {"key": "baby_name", "label": t("婴儿姓名", "Baby's name"), "type": "text", "max_len": 30, "required": True},
          choice("baby_gender", "婴儿性别", "Baby's gender", [("1", "男", "Boy"), ("2", "女", "Girl")]),
          {"key": "baby_birth_date", "label": t("出生日期", "Date of birth"), "type": "date", "required": True}],
         tl(5, "working_days"), tl(1, "working_days"), "registration"),
]

themes = [
    {"id": "social_security", "name": t("社会保障", "Social security")},
    {"id": "medical", "name": t("医疗保障", "Medical insurance")},
    {"id": "elderly", "name": t("养老服务", "Elderly care")},
    {"id": "disability", "name": t("助残服务", "Disability")},
    {"id": "assistance", "name": t("社会救助", "Social assistance")},
    {"id": "family", "name": t("户籍生育", "Household and birth")},
]

bundles = [
    {"code": "620000YJS001", "name": t("我要办理社会保障卡", "I want a social security card"),
     "items": ["620000RS0002", "620000RS0001"], "shared_fields": ["name", "id_number", "phone"]},
    {"code": "620000YJS002", "name": t("新生儿出生一件事", "A baby is born"),
     "items": ["620000GA0001", "620000YB0001", "620000RS0001"], "shared_fields": ["name", "id_number", "phone"]},
]

catalog = {"version": 2026112201, "themes": themes, "items": items, "bundles": bundles}
with open("catalog.json", "w", encoding="utf-8") as f:
    json.dump(catalog, f, ensure_ascii=False, indent=1)
    f.write("\n")
